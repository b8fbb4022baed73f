/**
 * Issue 11, finding 2: map memory a stale pointer cannot turn against
 * another map. A verified program may keep a value pointer after the element
 * (or the whole map) is gone, as Linux allows: the kernel keeps that memory
 * out of reuse until an RCU grace period has passed and, for hash elements,
 * reuses it only for the same map. tsbpf: every map allocates its elements
 * from its own cache, and memory freed while a run is in flight is reused
 * only after every run has ended (docs/map-memory.md). Each case under both
 * engines: the program writes through its stale pointer, and the other
 * map's bytes must be untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime, type Program } from '../src/runtime/runtime.js';
import { assemble } from '../src/isa/asm.js';
import type { BpfMap } from '../src/maps/map.js';
import type { MapSpec } from '../src/object/spec.js';
import { BPF_F_NO_PREALLOC } from '../src/maps/flags.js';
import { ArenaSpace } from '../src/runtime/arena-space.js';
import { Debugger } from '../src/vm/debugger.js';
import type { InterpExecutable } from '../src/vm/interpreter.js';

const ENGINES = ['jit', 'interpreter'] as const;

function mapSpec(name: string, type: MapSpec['type'], keySize: number, valueSize: number, maxEntries: number, flags = 0, extra: Partial<MapSpec> = {}): MapSpec {
  return { name, type, keySize, valueSize, maxEntries, flags, pinning: 'none', ...extra };
}

/** A program from kernel-syntax assembly, maps named `map[fd:ID]`. */
function load(rt: Runtime, src: string, name = 'stale'): Promise<Program> {
  return rt.loadProgram({ name, type: 'xdp', expectedAttachType: 'xdp', insns: assemble(src, { dialect: 'kernel' }) });
}

/** trace_printk("hi") as instructions: the host's trace sink runs in the middle of the program. */
const TRACE = ['r1 = 0x6968', '*(u64 *)(r10 -40) = r1', 'r1 = r10', 'r1 += -40', 'r2 = 3', 'call 6'].join('\n');

/** bpf_map_lookup_elem(MAP, &key) with the u32 key at r10-4; to `out` when absent. */
const lookup = (map: string): string => `r1 = ${map}\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto out`;

/**
 * A program that takes a pointer with `get` (left in r0, key 0 at r10-4),
 * lets the host act (trace sink), then writes 8 bytes through the pointer at
 * each of `offsets`, and runs `after`.
 */
function staleWriter(get: string, offsets: number[], after = ''): string {
  const writes = offsets.map((o) => `*(u64 *)(r7 +${o}) = r1`);
  return ['*(u32 *)(r10 -4) = 0', get, 'r7 = r0', TRACE, 'r1 = 0x4141414141414141 ll', ...writes, after, 'out:', 'r0 = 2', 'exit'].join('\n');
}

const key16 = new Uint8Array(16).fill(0x11);
const val8 = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

for (const engine of ENGINES) {
  test(`${engine}: use after delete in a NO_PREALLOC hash map does not reach another map's element`, async () => {
    const rt = new Runtime({ engine });
    try {
      // a's element (key 4 -> 8 bytes, value 24) and b's (key 16, value 8) are both 32 bytes:
      // a shared allocator hands a's freed element to b, and a's value pointer (+8) is b's key.
      const a = rt.createMap(mapSpec('a', 'hash', 4, 24, 16, BPF_F_NO_PREALLOC));
      const b = rt.createMap(mapSpec('b', 'hash', 16, 8, 16, BPF_F_NO_PREALLOC));
      a.set(1, new Uint8Array(24).fill(0xaa));
      const prog = await load(
        rt,
        `*(u32 *)(r10 -4) = 1
        ${lookup(`map[fd:${a.id}] ll`)}
        r6 = r0
        r1 = map[fd:${a.id}] ll
        r2 = r10
        r2 += -4
        call 3
        r1 = 0x1111111111111111 ll
        *(u64 *)(r10 -24) = r1
        *(u64 *)(r10 -16) = r1
        r1 = 0x0807060504030201 ll
        *(u64 *)(r10 -32) = r1
        r1 = map[fd:${b.id}] ll
        r2 = r10
        r2 += -24
        r3 = r10
        r3 += -32
        r4 = 0
        call 2
        r1 = 0x4141414141414141 ll
        *(u64 *)(r6 +0) = r1
        *(u64 *)(r6 +8) = r1
        *(u64 *)(r6 +16) = r1
out:
        r0 = 2
        exit`,
      );
      assert.equal(prog.run({ data: new Uint8Array(64) }).retval, 2);
      assert.equal(a.get(1), undefined, 'the program deleted a[1]');
      const keys = [...b.keys()];
      assert.deepEqual(keys, [key16], "b lists exactly the key the program inserted");
      for (const k of keys) assert.notEqual(b.get(k), undefined, 'every key b lists is found by get()');
      assert.deepEqual(b.get(key16), val8);
    } finally {
      rt.close();
    }
  });

  test(`${engine}: an inner map replaced and closed during a run keeps its memory until the run ends`, async () => {
    const rt = new Runtime({
      engine,
      trace: () => {
        // The host swaps the slot and drops the only other reference to the old inner map,
        // then makes a map of the same size: it must not get the old inner map's storage.
        outer.set(0, spare.id);
        inner.close();
        victim = rt.createMap(mapSpec('victim', 'array', 4, 64, 1));
        victim.set(0, new Uint8Array(64).fill(0x5a));
      },
    });
    const template = mapSpec('inner', 'array', 4, 64, 1);
    const inner = rt.createMap(template);
    const spare = rt.createMap({ ...template, name: 'spare' });
    const outer = rt.createMap(mapSpec('outer', 'array_of_maps', 4, 4, 1, 0, { innerMap: template }));
    let victim: BpfMap<unknown> | undefined;
    try {
      outer.set(0, inner.id);
      const prog = await load(rt, staleWriter(`${lookup(`map[fd:${outer.id}] ll`)}\n${lookup('r0')}`, [0, 56]));
      const innerValues = (inner as unknown as { valuesAddr: number }).valuesAddr;
      prog.run({ data: new Uint8Array(64) });
      assert.ok(victim, 'the trace sink ran during the program');
      assert.deepEqual(victim.get(0), new Uint8Array(64).fill(0x5a), 'the victim map is untouched');
      assert.equal(rt.space.sizeOf(innerValues), undefined, 'the old inner map storage is freed once the run ended');
    } finally {
      rt.close();
    }
  });

  test(`${engine}: an inner map deleted from a hash_of_maps and closed during a run keeps its memory until the run ends`, async () => {
    let victim: BpfMap<unknown> | undefined;
    const rt = new Runtime({
      engine,
      trace: () => {
        outer.delete(0);
        inner.close();
        victim = rt.createMap(mapSpec('victim', 'array', 4, 64, 1));
        victim.set(0, new Uint8Array(64).fill(0x5a));
      },
    });
    const template = mapSpec('inner', 'array', 4, 64, 1);
    const inner = rt.createMap(template);
    const outer = rt.createMap(mapSpec('outer', 'hash_of_maps', 4, 4, 4, 0, { innerMap: template }));
    try {
      outer.set(0, inner.id);
      const prog = await load(rt, staleWriter(`${lookup(`map[fd:${outer.id}] ll`)}\n${lookup('r0')}`, [0, 56]));
      prog.run({ data: new Uint8Array(64) });
      assert.ok(victim, 'the trace sink ran during the program');
      assert.deepEqual(victim.get(0), new Uint8Array(64).fill(0x5a), 'the victim map is untouched');
    } finally {
      rt.close();
    }
  });

  test(`${engine}: a program and its map closed during its own run (and a nested run) keep their memory until the outer run ends`, async () => {
    let prog: Program | undefined;
    let nested: Program | undefined;
    let victim: BpfMap<unknown> | undefined;
    const rt = new Runtime({
      engine,
      trace: (rec) => {
        if (rec.program !== 'stale') return;
        prog!.close();
        h.close();
        // A nested run ending must not end the outer run's grace period.
        nested!.run({ data: new Uint8Array(64) });
        victim = rt.createMap(mapSpec('victim', 'hash', 4, 48, 4));
        for (let k = 0; k < 4; k++) victim.set(k, new Uint8Array(48).fill(0x5a));
      },
    });
    const h = rt.createMap(mapSpec('h', 'hash', 4, 48, 4));
    try {
      h.set(0, new Uint8Array(48));
      nested = await load(rt, 'r0 = 2\nexit', 'nested');
      prog = await load(rt, staleWriter(lookup(`map[fd:${h.id}] ll`), [0, 40]));
      prog.run({ data: new Uint8Array(64) });
      assert.ok(victim, 'the trace sink ran during the program');
      for (let k = 0; k < 4; k++) assert.deepEqual(victim.get(k), new Uint8Array(48).fill(0x5a), `victim[${k}] is untouched`);
      assert.equal(rt.maps.byId(h.id), undefined, 'the closed map is gone once its last program is');
    } finally {
      rt.close();
    }
  });

  test(`${engine}: a ring buffer closed under a reserved record keeps its memory until the run ends`, async () => {
    let prog: Program | undefined;
    let victim: BpfMap<unknown> | undefined;
    const rt = new Runtime({
      engine,
      trace: () => {
        prog!.close();
        rb.close();
        victim = rt.createMap(mapSpec('victim', 'array', 4, 4096, 2));
        victim.set(0, new Uint8Array(4096).fill(0x5a));
      },
    });
    const rb = rt.createMap(mapSpec('rb', 'ringbuf', 0, 0, 4096));
    try {
      prog = await load(rt, staleWriter(`r1 = map[fd:${rb.id}] ll\nr2 = 64\nr3 = 0\ncall 131\nif r0 == 0 goto out`, [0, 56], 'r1 = r7\nr2 = 0\ncall 132'));
      prog.run({ data: new Uint8Array(64) });
      assert.ok(victim, 'the trace sink ran during the program');
      assert.deepEqual(victim.get(0), new Uint8Array(4096).fill(0x5a), 'the victim map is untouched');
    } finally {
      rt.close();
    }
  });
}

test("each map's elements come from its own memory: a freed element is never another map's", () => {
  const rt = new Runtime({ engine: 'interpreter' });
  try {
    const specs: MapSpec[] = [
      mapSpec('a', 'hash', 4, 24, 64, BPF_F_NO_PREALLOC),
      mapSpec('b', 'hash', 4, 24, 64, BPF_F_NO_PREALLOC),
      mapSpec('t1', 'lpm_trie', 8, 24, 64, BPF_F_NO_PREALLOC),
      mapSpec('t2', 'lpm_trie', 8, 24, 64, BPF_F_NO_PREALLOC),
    ];
    const [a, b, t1, t2] = specs.map((s) => rt.createMap(s)) as [BpfMap<unknown>, BpfMap<unknown>, BpfMap<unknown>, BpfMap<unknown>];
    const addrOf = (m: BpfMap<unknown>, k: Uint8Array | number): number => m.getView(k)!.byteOffset;
    const lpmKey = (i: number): Uint8Array => new Uint8Array([32, 0, 0, 0, 10, 0, 0, i]);
    const v = new Uint8Array(24).fill(7);
    const freedA: number[] = [];
    const freedT: number[] = [];
    for (let i = 0; i < 32; i++) {
      a.set(i, v);
      t1.set(lpmKey(i), v);
      freedA.push(addrOf(a, i));
      freedT.push(addrOf(t1, lpmKey(i)));
    }
    for (let i = 0; i < 32; i++) {
      a.delete(i);
      t1.delete(lpmKey(i));
    }
    for (let i = 0; i < 32; i++) {
      b.set(i, v);
      t2.set(lpmKey(i), v);
      assert.ok(!freedA.includes(addrOf(b, i)), `b's element ${i} is not one of a's`);
      assert.ok(!freedT.includes(addrOf(t2, lpmKey(i))), `t2's value ${i} is not one of t1's`);
    }
    // The same map takes its own freed elements back (no run in flight: no grace period to wait for).
    a.set(100, v);
    assert.ok(freedA.includes(addrOf(a, 100)), "a reuses its own freed elements");
  } finally {
    rt.close();
  }
});

test('a shared space counts the runs of every thread: a map closed while another thread runs is freed after that run', () => {
  const rt = new Runtime({ shared: true, numCpus: 2, engine: 'interpreter' });
  try {
    const m = rt.createMap(mapSpec('shared_arr', 'array', 4, 64, 16));
    const values = (m as unknown as { valuesAddr: number }).valuesAddr;
    // Another thread's view of the memory (as a worker's, src/runtime/shared.ts), running a program.
    const arenaBase = rt.space.alloc(65536, 4096);
    const worker = new ArenaSpace(rt.space.memory, arenaBase, 65536);
    worker.enterRun();
    m.close();
    assert.equal(rt.maps.byId(m.id), undefined, 'the id goes at once');
    rt.space.alloc(16);
    assert.notEqual(rt.space.sizeOf(values), undefined, "the storage stays while the other thread's run is in flight");
    worker.exitRun();
    rt.space.alloc(16);
    assert.equal(rt.space.sizeOf(values), undefined, 'and is freed once no thread runs');
    assert.equal(rt.space.deferredCount, 0);
  } finally {
    rt.close();
  }
});

for (const engine of ENGINES) {
  test(`${engine}: a run that deletes and inserts 10000 times keeps the element cache within twice max_entries`, async () => {
    // Structural checks only: a raw program has no BTF func_info for its callback (the verifier would refuse it as Linux does).
    const rt = new Runtime({ engine, verify: 'structural' });
    try {
      const h = rt.createMap(mapSpec('churn', 'hash', 4, 8, 4, BPF_F_NO_PREALLOC));
      const cb = [
        '*(u32 *)(r10 -4) = 7',
        'r1 = 0',
        '*(u64 *)(r10 -16) = r1',
        `r1 = map[fd:${h.id}] ll`,
        'r2 = r10',
        'r2 += -4',
        'r3 = r10',
        'r3 += -16',
        'r4 = 0',
        'call 2',
        'if r0 != 0 goto fail',
        `r1 = map[fd:${h.id}] ll`,
        'r2 = r10',
        'r2 += -4',
        'call 3',
        'r0 = 0',
        'exit',
        'fail:',
        'r0 = 1',
        'exit',
      ];
      // main: return bpf_loop(10000, cb, NULL, 0), the iterations done (a failed update stops the loop); cb at slot 7
      const insns = assemble(['r1 = 10000', 'r2 = 0 ll', 'r3 = 0', 'r4 = 0', 'call 181', 'exit', ...cb].join('\n'), { dialect: 'kernel' });
      insns[1]!.src = 4; // BPF_PSEUDO_FUNC: imm relative to the next instruction
      insns[1]!.imm = 7 - 2;
      const prog = await rt.loadProgram({ name: 'churn', type: 'xdp', insns });
      assert.equal(prog.run({ data: new Uint8Array(64) }).retval, 10000, 'every update succeeded');
      const cache = (h as unknown as { table_: { cache: { bytes: number; elemSize: number } } }).table_.cache;
      assert.ok(cache.bytes <= 2 * 4 * cache.elemSize, `the cache holds ${cache.bytes} bytes after 10000 deletes in one run`);
      assert.equal(rt.space.deferredCount, 0, 'nothing waits once the run ended');
      assert.equal([...h.keys()].length, 0);
    } finally {
      rt.close();
    }
  });
}

test('a debugged run holds the grace period until it ends, not until the session is closed', async () => {
  const rt = new Runtime({ engine: 'interpreter' });
  try {
    const m = rt.createMap(mapSpec('dbg_arr', 'array', 4, 64, 1));
    const values = (m as unknown as { valuesAddr: number }).valuesAddr;
    const prog = await load(rt, 'r0 = 1\nr0 += 1\nexit', 'dbg');
    const dbg = new Debugger(prog.executable as InterpExecutable, { args: [0n] });
    assert.equal(dbg.step().reason, 'step');
    m.close();
    assert.notEqual(rt.space.sizeOf(values), undefined, 'a map closed while the debugged run is stopped keeps its memory');
    assert.equal(dbg.continue().reason, 'exit');
    assert.equal(rt.space.sizeOf(values), undefined, 'and gives it back when the run exits');
    assert.equal(rt.space.runsInFlight, 0);
    dbg.close();
    assert.equal(rt.space.runsInFlight, 0, 'closing after the end does not count the run twice');
  } finally {
    rt.close();
  }
});
