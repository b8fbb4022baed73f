/**
 * The JIT's inlined bpf_map_lookup_elem on hash maps (vm/jit/inline-hash.ts)
 * finds exactly what the map holds: keys of every size up to the inline
 * limit (whole words, tail bytes), chains of colliding keys, deleted and
 * absent keys; the lookup stays out of JS (LRU lookups too, setting the
 * element's reference bit as the helper does); long keys still go through
 * the helper; a table the host corrupted neither holds the inlined walk in
 * a loop nor lets it write outside the table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, OP_LDDW, BPF_PSEUDO_MAP_FD, type Insn } from '../src/isa/index.js';
import { Runtime } from '../src/runtime/index.js';
import { countingHelpers } from './support/counting-helpers.js';
import { BPF_FUNC } from '../src/uapi/helper-ids.js';
import { MAX_INLINE_KEY } from '../src/vm/jit/inline-hash.js';
import { H, HDR_WORDS, stateWords } from '../src/memory/hash-layout.js';
import { xorshift32 } from './support/random.js';

/** `r1 = N ll` with N = 1, 2 become references to the maps with these ids. */
function mapRefs(insns: Insn[], ids: Record<number, number>): Insn[] {
  for (const i of insns) if (i.code === OP_LDDW && ids[i.imm] !== undefined) (i.src = BPF_PSEUDO_MAP_FD), (i.imm = ids[i.imm]!);
  return insns;
}

/** The key is keys[0] (an array map's value); r0 = the hash map's u64 value, or 7777 when absent. */
const PROG = `
  r2 = 0
  *(u32 *)(r10 -4) = r2
  r1 = 1 ll
  r2 = r10
  r2 += -4
  call 1
  if r0 != 0 goto +2
  r0 = 9999
  exit
  r2 = r0
  r1 = 2 ll
  call 1
  if r0 != 0 goto +2
  r0 = 7777
  exit
  r0 = *(u64 *)(r0 +0)
  exit`;

/** A deterministic byte stream (no Math.random in tests). */
function bytes(seed: number, n: number): Uint8Array {
  let x = seed * 2654435761 + 1;
  return Uint8Array.from({ length: n }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0), x >>> 24));
}

async function world(engine: 'interpreter' | 'jit', type: 'hash' | 'lru_hash' | 'percpu_hash' | 'lru_percpu_hash', keySize: number) {
  const { helpers, calls } = countingHelpers([BPF_FUNC.map_lookup_elem], false);
  const rt = new Runtime({ engine, helpers, numCpus: 4 });
  const keys = rt.createMap({ name: 'keys', type: 'array', keySize: 4, valueSize: keySize, maxEntries: 1, flags: 0, pinning: 'none' });
  const h = rt.createMap({ name: 'h', type, keySize, valueSize: 8, maxEntries: 16, flags: 0, pinning: 'none' });
  const p = await rt.loadProgram({ type: 'xdp', insns: mapRefs(assemble(PROG), { 1: keys.id, 2: h.id }) });
  const u32 = (n: number) => Uint8Array.of(n, n >> 8, n >> 16, n >> 24);
  return {
    rt,
    calls,
    h,
    /** the key the next run looks up */
    setKey(key: Uint8Array): void {
      keys.set(u32(0), key);
    },
    /** a run on CPU 0 with the key set last */
    invoke(): number {
      return Number(p.invoke(0, { cpu: 0 }).r0);
    },
    look(key: Uint8Array, cpu?: number): number {
      keys.set(u32(0), key);
      // (the program does not read its context: invoke runs it on a given CPU)
      if (cpu !== undefined) return Number(p.invoke(0, { cpu }).r0);
      return p.run({ data: new Uint8Array(64) }).retval;
    },
  };
}

const u64 = (n: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};

for (const keySize of [1, 2, 3, 4, 5, 7, 8, 12, 16, 20, 33, MAX_INLINE_KEY, MAX_INLINE_KEY + 1]) {
  test(`jit: inlined hash lookup, ${keySize}-byte keys: the same answers as the interpreter, colliding chains and deletions included`, async () => {
    const jit = await world('jit', 'hash', keySize);
    const ref = await world('interpreter', 'hash', keySize);
    // 14 keys in 16 slots (few buckets: chains), 4 of them deleted; keys differing only in their last byte
    const ks = Array.from({ length: 14 }, (_, i) => bytes(keySize * 100 + i, keySize));
    if (keySize > 1) ks[1] = Uint8Array.from(ks[0]!, (b, j) => (j === keySize - 1 ? b ^ 1 : b));
    const uniq = ks.filter((k, i) => ks.findIndex((o) => o.every((b, j) => b === k[j])) === i);
    uniq.forEach((k, i) => {
      jit.h.set(k, u64(1000 + i));
      ref.h.set(k, u64(1000 + i));
    });
    for (const k of uniq.slice(0, 4)) {
      jit.h.delete(k);
      ref.h.delete(k);
    }
    const absent = Array.from({ length: 6 }, (_, i) => bytes(keySize * 100 + 50 + i, keySize));
    let found = 0;
    for (const [i, k] of [...uniq, ...absent].entries()) {
      const want = ref.look(k);
      assert.equal(jit.look(k), want, `key ${i}`);
      if (want !== 7777) found++;
      if (i >= 4 && i < uniq.length) assert.equal(want, 1000 + i, 'the interpreter finds what the host put in');
    }
    assert.equal(found, uniq.length - 4 - absent.filter((a) => uniq.slice(4).some((k) => k.every((b, j) => b === a[j]))).length);
    if (keySize <= MAX_INLINE_KEY) assert.equal(jit.calls.n, 0, 'every lookup stayed in WebAssembly');
    else assert.ok(jit.calls.n > 0, 'keys past the inline limit go through the helper');
    jit.rt.close();
    ref.rt.close();
  });
}

for (const type of ['lru_hash', 'lru_percpu_hash'] as const) {
  test(`jit: ${type} lookups are inlined, set the reference bit, and evict as the interpreter does`, async () => {
    const jit = await world('jit', type, 4);
    const ref = await world('interpreter', type, 4);
    const val = (i: number) => (type === 'lru_hash' ? u64(500 + i) : (Array.from({ length: 4 }, () => u64(500 + i)) as never));
    // full (16 of 16), then programs look up keys 0..3: referenced, they outlive the next evictions
    for (let i = 0; i < 16; i++) for (const w of [jit, ref]) w.h.set(bytes(i, 4), val(i));
    for (let i = 0; i < 4; i++) assert.equal(jit.look(bytes(i, 4)), ref.look(bytes(i, 4)));
    assert.equal(jit.look(bytes(99, 4)), 7777);
    assert.equal(jit.calls.n, 0, 'every lookup stayed in WebAssembly');
    // 6 new keys evict 4..9 (the oldest unreferenced), not 0..3, on both engines
    for (let i = 16; i < 22; i++) for (const w of [jit, ref]) w.h.set(bytes(i, 4), val(i));
    const has = (w: typeof jit): number[] => Array.from({ length: 22 }, (_, i) => i).filter((i) => w.h.has(bytes(i, 4)));
    assert.deepEqual(has(jit), has(ref));
    assert.deepEqual(has(jit), [0, 1, 2, 3, ...Array.from({ length: 12 }, (_, i) => 10 + i)]);
    jit.rt.close();
    ref.rt.close();
  });
}

for (const type of ['hash', 'lru_hash'] as const) {
  test(`jit: the inlined ${type} lookup on a corrupted table returns and writes nothing outside the table`, async () => {
    const w = await world('jit', type, 4);
    const space = w.rt.space;
    const m = w.h as unknown as { stateAddr: number };
    const st = m.stateAddr;
    const hdr = (i: number): number => space.readU32(st + i * 4);
    const maxEntries = 16;
    const stateEnd = st + stateWords(hdr(H.MASK) + 1, maxEntries, type === 'lru_hash') * 4;
    const pool = hdr(H.POOL);
    const poolEnd = pool + maxEntries * hdr(H.SLOT_SIZE);
    for (let i = 0; i < 12; i++) w.h.set(bytes(i, 4), u64(i));
    const r = xorshift32(type.length * 7);
    const junk = (): number => [r(), 0xffffffff, r() % 40, r() % maxEntries, maxEntries, 0x7fffffff][r() % 6]!;
    // the table's own bytes (state and elements) and run stacks may change; nothing else
    const ours = (a: number): boolean => (a >= st && a < stateEnd) || (a >= pool && a < poolEnd) || space.regionOf(a, 1)?.kind === 'stack';
    for (let round = 0; round < 40; round++) {
      // bucket heads, chain links and hashes (cycles, out-of-range numbers, matching hashes), LRU words
      for (let k = 0; k < 1 + (r() % 12); k++) space.writeU32(st + (HDR_WORDS + (r() % (stateEnd / 4 - st / 4 - HDR_WORDS))) * 4, junk());
      for (let k = 0; k < 8; k++) {
        w.setKey(bytes(r() % 16, 4));
        const before = space.u8.slice();
        const res = w.invoke();
        assert.ok(res === 7777 || res < 16, `a value the host wrote, or absent (${res})`);
        const after = space.u8;
        for (let a = 0; a < before.length; a++) if (before[a] !== after[a]) assert.ok(ours(a), `round ${round}: byte ${a} outside the table changed`);
      }
    }
    assert.equal(w.calls.n, 0, 'the lookups were the inlined ones');
    w.rt.close();
  });
}

for (const keySize of [4, 6]) {
  test(`jit: percpu_hash lookups (${keySize}-byte keys) are inlined and give the running CPU's value, as the interpreter`, async () => {
    const jit = await world('jit', 'percpu_hash', keySize);
    const ref = await world('interpreter', 'percpu_hash', keySize);
    const vals = (i: number) => Array.from({ length: 4 }, (_, c) => u64(100 * c + i));
    for (let i = 0; i < 10; i++) {
      jit.h.set(bytes(i, keySize), vals(i) as never);
      ref.h.set(bytes(i, keySize), vals(i) as never);
    }
    for (let i = 0; i < 12; i++)
      for (const cpu of [0, 1, 3]) {
        const want = ref.look(bytes(i, keySize), cpu);
        assert.equal(jit.look(bytes(i, keySize), cpu), want, `key ${i} on CPU ${cpu}`);
        assert.equal(want, i < 10 ? 100 * cpu + i : 7777);
      }
    assert.equal(jit.calls.n, 0, 'every lookup stayed in WebAssembly');
    jit.rt.close();
    ref.rt.close();
  });
}

test('the inlined lookup folds in the map\'s random seed without changing the module\'s size', async () => {
  // BPF_F_ZERO_SEED (include/uapi/linux/bpf.h: 1 << 6) gives seed 0, whose shortest i32.const
  // immediate is 1 byte; a random seed's is up to 5. The inliner writes every seed in 5 bytes,
  // so one program compiles to the same bytes length whatever its maps' seeds (the browser
  // test compares those lengths between Node and Chromium).
  const sizes: number[] = [];
  for (const flags of [0x40, 0, 0, 0]) {
    const rt = new Runtime({ engine: 'jit' });
    const keys = rt.createMap({ name: 'keys', type: 'array', keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, pinning: 'none' });
    const h = rt.createMap({ name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, flags, pinning: 'none' });
    const p = await rt.loadProgram({ type: 'xdp', insns: mapRefs(assemble(PROG), { 1: keys.id, 2: h.id }) });
    keys.set(Uint8Array.of(0, 0, 0, 0), Uint8Array.of(5, 0, 0, 0));
    h.set(Uint8Array.of(5, 0, 0, 0), Uint8Array.of(42, 0, 0, 0, 0, 0, 0, 0));
    assert.equal(p.run({ data: new Uint8Array(64) }).retval, 42, `flags ${flags}: the inlined lookup finds the key`);
    sizes.push((p.executable as { compiled?: { bytes?: Uint8Array } }).compiled!.bytes!.length);
  }
  assert.equal(new Set(sizes).size, 1, `module sizes ${sizes.join(', ')}`);
});
