/**
 * The JIT's inlined bpf_map_lookup_elem on hash maps (vm/jit/inline-hash.ts)
 * finds exactly what the map holds: keys of every size up to the inline
 * limit (whole words, tail bytes), chains of colliding keys, deleted and
 * absent keys; the lookup stays out of JS; maps it must not inline (LRU,
 * per-CPU, long keys) still go through the helper.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, OP_LDDW, BPF_PSEUDO_MAP_FD, type Insn } from '../src/isa/index.js';
import { Runtime } from '../src/runtime/index.js';
import { defaultHelpers } from '../src/helpers/index.js';
import { HelperRegistry, type HelperDef } from '../src/vm/helper-abi.js';
import { BPF_FUNC } from '../src/uapi/helper-ids.js';
import { MAX_INLINE_KEY } from '../src/vm/jit/inline-hash.js';

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

/** Helpers whose lookup has no WebAssembly form and counts its JS calls: a JIT lookup that is not inlined shows here. */
function counting(): { helpers: HelperRegistry; calls: { n: number } } {
  const calls = { n: 0 };
  const defs = [...defaultHelpers()].map((d): HelperDef => {
    if (d.id !== BPF_FUNC.map_lookup_elem) return d;
    const { wasm32: _w, fn32, fn, ...rest } = d;
    return { ...rest, fn: (env, a, b, c, e, f) => (calls.n++, fn(env, a, b, c, e, f)), ...(fn32 ? { fn32: (env, a, b, c, e, f) => (calls.n++, fn32(env, a, b, c, e, f)) } : {}) };
  });
  return { helpers: new HelperRegistry(defs), calls };
}

/** A deterministic byte stream (no Math.random in tests). */
function bytes(seed: number, n: number): Uint8Array {
  let x = seed * 2654435761 + 1;
  return Uint8Array.from({ length: n }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0), x >>> 24));
}

async function world(engine: 'interpreter' | 'jit', type: 'hash' | 'lru_hash' | 'percpu_hash', keySize: number) {
  const { helpers, calls } = counting();
  const rt = new Runtime({ engine, helpers, numCpus: 4 });
  const keys = rt.createMap({ name: 'keys', type: 'array', keySize: 4, valueSize: keySize, maxEntries: 1, flags: 0, pinning: 'none' });
  const h = rt.createMap({ name: 'h', type, keySize, valueSize: 8, maxEntries: 16, flags: 0, pinning: 'none' });
  const p = await rt.loadProgram({ type: 'xdp', insns: mapRefs(assemble(PROG), { 1: keys.id, 2: h.id }) });
  const u32 = (n: number) => Uint8Array.of(n, n >> 8, n >> 16, n >> 24);
  return {
    rt,
    calls,
    h,
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

test('jit: lru_hash lookups are not inlined (an LRU lookup moves the element) and answer as the interpreter', async () => {
  const jit = await world('jit', 'lru_hash', 4);
  const ref = await world('interpreter', 'lru_hash', 4);
  for (let i = 0; i < 8; i++) {
    jit.h.set(bytes(i, 4), u64(500 + i));
    ref.h.set(bytes(i, 4), u64(500 + i));
  }
  for (let i = 0; i < 10; i++) assert.equal(jit.look(bytes(i, 4)), ref.look(bytes(i, 4)));
  assert.ok(jit.calls.n >= 10, 'through the helper');
  jit.rt.close();
  ref.rt.close();
});

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
