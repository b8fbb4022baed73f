/**
 * bpf_map_lookup_elem on a BPF_MAP_TYPE_PERCPU_ARRAY compiled inline by the
 * JIT (vm/jit/inline-percpu-array.ts): the value of the run's CPU (wrapping
 * past the map's CPU count as the JS map does), NULL past max_entries, the
 * same answers as the interpreter's JS lookup on every CPU, and no call into
 * the JS map operation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime } from '../src/runtime/index.js';
import { assemble, OP_LDDW, BPF_PSEUDO_MAP_FD } from '../src/isa/index.js';
import { PerCpuArrayMap } from '../src/maps/array.js';

const MAX = 10;

/** keys 0..MAX+1: h = h * 31 + (value's u32 at +8, or 0xdead when NULL); r0 = h */
const SRC = `
    r6 = 0
    r7 = 0
  top:
    *(u32 *)(r10 -4) = r7
    r1 = 0 ll
    r2 = r10
    r2 += -4
    call 1
    r1 = 0xdead
    if r0 == 0 goto add
    r1 = *(u32 *)(r0 +8)
  add:
    r6 *= 31
    r6 += r1
    r7 += 1
    if r7 < ${MAX + 2} goto top
    r0 = r6
    exit`;

async function side(engine: 'jit' | 'interpreter', shared: boolean) {
  const rt = new Runtime({ engine, numCpus: 3, ...(shared ? { shared: true } : {}) });
  const m = rt.createMap({ name: 'pa', type: 'percpu_array', keySize: 4, valueSize: 12, maxEntries: MAX, flags: 0, pinning: 'none' }) as unknown as PerCpuArrayMap;
  for (let i = 0; i < MAX; i++) {
    const vs = [0, 1, 2].map((cpu) => {
      const v = new Uint8Array(12);
      new DataView(v.buffer).setUint32(8, (cpu + 1) * 1000 + i, true);
      return v;
    });
    m.set(i, vs);
  }
  const insns = assemble(SRC);
  for (const i of insns) if (i.code === OP_LDDW && i.imm === 0 && i.src === 0) (i.src = BPF_PSEUDO_MAP_FD), (i.imm = m.id);
  const p = await rt.loadProgram({ type: 'xdp', insns });
  return { rt, m, run: (cpu: number) => p.invoke(0, { cpu }).r0 };
}

for (const shared of [false, true]) {
  test(`per-CPU array lookups inline (${shared ? 'shared' : 'unshared'} space): this CPU's value, as the JS lookup, without calling it`, async () => {
    const jit = await side('jit', shared);
    const interp = await side('interpreter', shared);
    const proto = PerCpuArrayMap.prototype as unknown as { lookupElem: (...a: number[]) => number };
    const saved = proto.lookupElem;
    let calls = 0;
    proto.lookupElem = function (this: unknown, ...a: number[]): number {
      calls++;
      return saved.apply(this, a);
    };
    try {
      const seen = new Set<bigint>();
      for (const cpu of [0, 1, 2, 3, 5]) {
        const want = interp.run(cpu);
        const interpCalls = calls;
        assert.equal(jit.run(cpu), want, `cpu ${cpu}`);
        assert.equal(calls, interpCalls, `cpu ${cpu}: the JIT called no JS lookup`);
        seen.add(want);
      }
      assert.ok(calls > 0, 'the interpreter went through the JS lookup');
      assert.equal(seen.size, 3, 'three CPUs, three different answers (CPU 3 and 5 wrap to 0 and 2)');
      // a host change of one CPU's value shows in that CPU's runs only
      const [b0, b1] = [jit.run(0), jit.run(1)];
      jit.m.set(4, [new Uint8Array(12), new Uint8Array(12).fill(7), new Uint8Array(12)]);
      assert.notEqual(jit.run(1), b1);
      assert.notEqual(jit.run(0), b0, 'CPU 0 now reads zeros at key 4');
      interp.m.set(4, [new Uint8Array(12), new Uint8Array(12).fill(7), new Uint8Array(12)]);
      for (const cpu of [0, 1, 2]) assert.equal(jit.run(cpu), interp.run(cpu), `cpu ${cpu} after the host's change`);
    } finally {
      proto.lookupElem = saved;
      jit.rt.close();
      interp.rt.close();
    }
  });
}
