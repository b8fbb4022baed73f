/**
 * Two runtimes side by side for the ring buffer producers' differential
 * tests (ringbuf-wasm.test.ts, ringbuf-reserve-wasm.test.ts): the
 * interpreter (the JS helpers) and the JIT (their WebAssembly forms) run the
 * same programs over a ring each, and the rings' blocks must stay equal.
 */
import assert from 'node:assert/strict';
import { OP_LDDW, BPF_PSEUDO_MAP_FD, assemble, type Insn } from '../../src/isa/index.js';
import { Runtime } from '../../src/runtime/index.js';
import { defaultHelpers } from '../../src/helpers/index.js';
import { HelperRegistry, type HelperDef } from '../../src/vm/helper-abi.js';
import { BPF_FUNC } from '../../src/uapi/helper-ids.js';
import { RingBufReader, type RingBuf } from '../../src/maps/index.js';

/** Every `r1 = 0 ll` becomes the map's reference. */
export function mapRef(insns: Insn[], id: number): Insn[] {
  for (const i of insns) if (i.code === OP_LDDW && i.imm === 0 && i.src === 0) (i.src = BPF_PSEUDO_MAP_FD), (i.imm = id);
  return insns;
}

/** The JS calls the engines make to the 32-bit forms of helpers `ids` (for the JIT: the WebAssembly forms' fallbacks). */
function countingHelpers(ids: readonly number[]): { helpers: HelperRegistry; calls: { n: number } } {
  const calls = { n: 0 };
  const defs = [...defaultHelpers()].map((d): HelperDef => {
    if (!ids.includes(d.id) || !d.fn32) return d;
    const fn32 = d.fn32;
    return { ...d, fn32: (env, a, b, c, e, f) => (calls.n++, fn32(env, a, b, c, e, f)) };
  });
  return { helpers: new HelperRegistry(defs), calls };
}

export interface Side {
  rt: Runtime;
  rb: RingBuf;
  reader: RingBufReader;
  calls: { n: number };
  wakes: { n: number };
  /** the programs by source, loaded once */
  progs: Map<string, { run(o: { data: Uint8Array }): { retval: number } }>;
  run(src: string): number;
  block(): Uint8Array;
}

export async function side(engine: 'interpreter' | 'jit', size = 4096, counted: readonly number[] = [BPF_FUNC.ringbuf_output]): Promise<Side> {
  const { helpers, calls } = countingHelpers(counted);
  const rt = new Runtime({ engine, helpers });
  const rb = rt.createMap({ name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: size, flags: 0, pinning: 'none' }) as unknown as RingBuf;
  const reader = new RingBufReader(rb);
  const wakes = { n: 0 };
  rb.onWakeup(() => wakes.n++);
  const progs: Side['progs'] = new Map();
  return {
    rt,
    rb,
    reader,
    calls,
    wakes,
    progs,
    run: (src) => progs.get(src)!.run({ data: new Uint8Array(64) }).retval,
    block: () => rb.bytes8().slice(),
  };
}

export async function load(s: Side, src: string): Promise<void> {
  if (!s.progs.has(src)) s.progs.set(src, await s.rt.loadProgram({ type: 'xdp', insns: mapRef(assemble(src), s.rb.id) }));
}

/** Run one step on both engines: same r0, same block bytes, same counters. */
export async function both(a: Side, b: Side, src: string, what: string): Promise<number> {
  await load(a, src);
  await load(b, src);
  const ra = a.run(src);
  const rb = b.run(src);
  assert.equal(rb, ra, `${what}: r0`);
  assert.deepEqual(b.block(), a.block(), `${what}: the ring's block`);
  assert.deepEqual({ ...b.rb.stats }, { ...a.rb.stats }, `${what}: counters`);
  return ra;
}

export const consumeBoth = (a: Side, b: Side, max = Infinity): void => {
  const ra = a.reader.read(max).map((r) => Array.from(r));
  const rb = b.reader.read(max).map((r) => Array.from(r));
  assert.deepEqual(rb, ra, 'the records read');
  assert.deepEqual(b.block(), a.block(), 'the block after reading');
};

