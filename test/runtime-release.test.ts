/**
 * Every resource is released on close() (issue 11, finding 4): a program's
 * JIT stack frames (8 KiB each) go back to the allocator when it closes, a
 * runtime's blocks when it closes, so load/close cycles run in constant
 * memory; a closed program cannot run on frames someone else now owns; and
 * running out of address spaces is a typed ENOMEM, not a RangeError.
 *
 * Memory is measured with the address space's own counters (live blocks and
 * bytes, the space's size) and, with a collectable heap (global.gc, or
 * --expose-gc switched on here), the process's heap and RSS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { assemble, type Insn } from '../src/isa/index.js';
import { LOOKUP_KEY0, mapRefs } from './support/programs.js';
import { Runtime } from '../src/runtime/index.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { TsbpfError } from '../src/errors.js';

/** A collector to call, or undefined when the process cannot have one. */
function collector(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

/** A program with a map reference, a helper call and a stack: what a load takes and a close must give back. */
function prog(mapId: number): Insn[] {
  return mapRefs(
    assemble(`${LOOKUP_KEY0}
    if r0 == 0 goto +2
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1
    r0 = 2
    exit`),
    mapId,
  );
}

for (const engine of ['jit', 'interpreter'] as const) {
  test(`${engine}: 10,000 programs loaded and closed leave the address space as it was`, async () => {
    const rt = new Runtime({ engine });
    const counts = rt.createMap({ name: 'counts', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, pinning: 'none' });
    const insns = prog(counts.id);
    // One cycle first: the engine's lazily made parts (the interpreter's stack pool) exist before the baseline.
    const first = await rt.loadProgram({ type: 'xdp', insns });
    assert.equal(first.run({ data: new Uint8Array(64) }).retval, 2);
    first.close();
    const gc = collector();
    gc?.();
    const before = rt.space.allocation();
    const sizeBefore = rt.space.size;
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10_000; i++) {
      const p = await rt.loadProgram({ type: 'xdp', insns });
      if (i % 1000 === 0) assert.equal(p.run({ data: new Uint8Array(64) }).retval, 2);
      p.close();
    }
    const after = rt.space.allocation();
    assert.deepEqual(after, before, 'live blocks and bytes are back to where they were');
    assert.equal(rt.space.size, sizeBefore, 'the space did not grow');
    assert.equal(new DataView((counts.get(0) as Uint8Array).buffer).getBigUint64(0, true), 11n, 'the runs that ran counted');
    if (gc) {
      gc();
      const grown = process.memoryUsage().heapUsed - heapBefore;
      assert.ok(grown < 16 * 2 ** 20, `heap grew by ${(grown / 2 ** 20).toFixed(1)} MiB over 10,000 cycles`);
    }
    rt.close();
  });
}

test('a closed program cannot run (its stack frames may belong to someone else by now)', async () => {
  for (const engine of ['jit', 'interpreter'] as const) {
    const rt = new Runtime({ engine });
    const m = rt.createMap({ name: 'm', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, pinning: 'none' });
    const p = await rt.loadProgram({ type: 'xdp', insns: prog(m.id) });
    const exe = p.executable;
    p.close();
    assert.throws(() => exe.run({ args: [0n] }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF', engine);
    if (exe.runCtx) assert.throws(() => exe.runCtx!(0, 0, undefined), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF', engine);
    assert.throws(() => p.run({ data: new Uint8Array(64) }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF');
    rt.close();
  }
});

test('1,000 runtimes created, used and closed: each one returns its blocks, and the process its memory', async () => {
  const gc = collector();
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) {
    const rt = new Runtime();
    const base = rt.space.allocation();
    const m = rt.createMap({ name: 'm', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, flags: 0, pinning: 'none' });
    const p = await rt.loadProgram({ type: 'xdp', insns: prog(m.id) });
    assert.equal(p.run({ data: new Uint8Array(64) }).retval, 2);
    rt.close();
    const left = rt.space.allocation();
    // What the runtime allocated itself (its scratch block) went back too.
    assert.ok(left.blocks < base.blocks && left.bytes < base.bytes, `runtime ${i}: ${JSON.stringify(left)} live after close (${JSON.stringify(base)} at start)`);
    assert.equal(left.blocks, 0, `runtime ${i}: nothing left in its space`);
  }
  if (gc) {
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 256 * 2 ** 20, `RSS grew by ${(grown / 2 ** 20).toFixed(0)} MiB over 1,000 runtimes`);
  }
});

test('running out of address spaces is ENOMEM saying to close runtimes, not a RangeError', () => {
  // Hold memories until the engine refuses one (V8 reserves about 10 GiB of
  // virtual address space per memory: some 13,000 fit in 128 TiB), then ask
  // for a runtime.
  const held: AddressSpace[] = [];
  let refused: unknown;
  try {
    for (let i = 0; i < 200_000 && refused === undefined; i++) {
      try {
        held.push(new AddressSpace({ initialPages: 1 }));
      } catch (e) {
        refused = e;
      }
    }
    if (refused === undefined) return; // an engine without per-memory reservations: nothing to run out of
    assert.ok(refused instanceof TsbpfError && refused.errno === 'ENOMEM', String(refused));
    assert.match((refused as Error).message, /close\(\) the runtimes/);
    assert.throws(() => new Runtime(), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOMEM');
  } finally {
    held.length = 0;
  }
  assert.throws(() => new AddressSpace({ initialPages: 65536 * 4, maximumPages: 65536 * 4 }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
});
