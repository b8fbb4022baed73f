/**
 * Per-CPU hash maps' program updates and lookups in WebAssembly: the JIT
 * tells the probe the run's CPU (vm/jit/inline-percpu-hash.ts), the probe
 * writes and reads that CPU's value (helpers/hash-probe.ts perCpuOffset).
 * On several CPUs, for keys the inline lookup takes and keys too long for
 * it, the JIT's answers and the map's contents are the interpreter's, and
 * no update or lookup reaches the JS map operations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/index.js';
import { Runtime } from '../src/runtime/index.js';
import { countingHelpers } from './support/counting-helpers.js';
import { BPF_FUNC } from '../src/uapi/helper-ids.js';
import { MAX_INLINE_KEY } from '../src/vm/jit/inline-hash.js';
import { mapRefs } from './support/programs.js';

/** The key is keys[0]; value = cpu * 1000 + key's first byte; update(h, key, value, BPF_ANY), then r0 = *lookup(h, key). */
const PROG = `
  r2 = 0
  *(u32 *)(r10 -4) = r2
  r1 = 0 ll
  r2 = r10
  r2 += -4
  call 1
  if r0 != 0 goto +2
  r0 = 9999
  exit
  r6 = r0
  call 8
  r0 *= 1000
  r1 = *(u8 *)(r6 +0)
  r0 += r1
  *(u64 *)(r10 -16) = r0
  r1 = 0 ll
  r2 = r6
  r3 = r10
  r3 += -16
  r4 = 0
  call 2
  if r0 == 0 goto +2
  r0 = 8888
  exit
  r1 = 0 ll
  r2 = r6
  call 1
  if r0 != 0 goto +2
  r0 = 7777
  exit
  r0 = *(u64 *)(r0 +0)
  exit`;

async function world(engine: 'interpreter' | 'jit', type: 'percpu_hash' | 'lru_percpu_hash', keySize: number) {
  const { helpers, calls } = countingHelpers([BPF_FUNC.map_update_elem, BPF_FUNC.map_lookup_elem], true);
  const rt = new Runtime({ engine, helpers, numCpus: 4 });
  const keys = rt.createMap({ name: 'keys', type: 'array', keySize: 4, valueSize: keySize, maxEntries: 1, flags: 0, pinning: 'none' });
  const h = rt.createMap({ name: 'h', type, keySize, valueSize: 8, maxEntries: 8, flags: 0, pinning: 'none' });
  const p = await rt.loadProgram({ type: 'xdp', insns: mapRefs(assemble(PROG), keys.id, h.id, h.id, h.id) });
  return {
    rt,
    calls,
    h,
    run(key: Uint8Array, cpu: number): number {
      keys.set(Uint8Array.of(0, 0, 0, 0), key);
      return Number(p.invoke(0, { cpu }).r0);
    },
  };
}

const u64 = (b: Uint8Array): number => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));

for (const type of ['percpu_hash', 'lru_percpu_hash'] as const) {
  for (const keySize of [4, MAX_INLINE_KEY + 6]) {
    test(`jit: ${type} (${keySize}-byte keys): program updates and lookups give this CPU's value without JS, as the interpreter`, async () => {
      const jit = await world('jit', type, keySize);
      const ref = await world('interpreter', type, keySize);
      const key = (i: number): Uint8Array => Uint8Array.from({ length: keySize }, (_, j) => (j === 0 ? 10 + i : j * 7 + i));
      // 12 keys in 8 entries: the LRU map evicts, the other fails with E2BIG (8888) once full
      for (let i = 0; i < 12; i++)
        for (const cpu of [1, 3, 0, 5]) {
          const want = ref.run(key(i), cpu);
          assert.equal(jit.run(key(i), cpu), want, `key ${i} on CPU ${cpu}`);
          if (type === 'lru_percpu_hash' || i < 8) assert.equal(want, cpu * 1000 + 10 + i, 'the value this CPU wrote');
          else assert.equal(want, 8888, 'full: E2BIG');
        }
      const dump = (w: typeof jit): string[] =>
        [...w.h.entries()].map(([k, v]) => `${(k as Uint8Array)[0]}:${(v as Uint8Array[]).map(u64).join(',')}`).sort();
      assert.deepEqual(dump(jit), dump(ref));
      // CPU 5 wraps to slot 1 (after CPU 1 wrote there), CPU 2 never wrote: its slot stayed zero
      if (type === 'percpu_hash') assert.ok(dump(jit).includes('10:10,5010,0,3010'), dump(jit).join(' '));
      assert.equal(jit.calls.n, 0, 'no update or lookup reached the JS map operations');
      jit.rt.close();
      ref.rt.close();
    });
  }
}

test('jit: a per-CPU hash update the JIT did not prepare goes to JS (the probe has no CPU), with the right slot', async () => {
  const jit = await world('jit', 'percpu_hash', 4);
  const h = jit.h as unknown as { stateAddr: number; updateElem(k: number, v: number, f: number, cpu: number): number };
  assert.equal(jit.run(Uint8Array.of(10, 0, 0, 0), 2), 2010);
  const before = jit.calls.n;
  // a call straight to the probe-backed helper without the JIT's store: H.CPU is clear
  const { hashProbe } = await import('../src/helpers/hash-probe.js');
  let fell = 0;
  const update = hashProbe('update', jit.rt.space.memory, false, () => (fell++, 0));
  const k = jit.rt.space.alloc(8);
  const v = jit.rt.space.alloc(8);
  jit.rt.space.writeU32(k, 10);
  assert.equal(update(0, (jit.h as unknown as { addr: number }).addr, k, v, 0), 0);
  assert.equal(fell, 1, 'the probe handed the call to JS');
  assert.equal(jit.calls.n, before);
  jit.rt.close();
});
