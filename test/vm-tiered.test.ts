/**
 * Tiered execution (src/vm/tiered.ts): the interpreter for a program's first
 * runs, the JIT after. Both tiers give the same results, the switch happens
 * between runs only, tail-call chains that cross tiers keep the kernel's
 * count of 33, and a program the JIT cannot compile stays interpreted.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assemble } from '../src/isa/index.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { JitEngine } from '../src/vm/jit/index.js';
import { DEFAULT_TIER_UP_RUNS, TieredEngine, TieredExecutable } from '../src/vm/tiered.js';
import type { Engine, Executable } from '../src/vm/engine.js';
import { Runtime } from '../src/runtime/index.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { TsbpfError } from '../src/errors.js';
import { conformanceNames, helper5, readCase } from './jit-support.js';
import { CONFORMANCE_MISSING, FIXTURES } from './paths.js';
import { countThenTailCall, mapRefs } from './support/programs.js';
import { eth, ip4l4, tcp, udp } from './runtime-packets.js';

const tiered = (after: number, jit: Engine = new JitEngine()): TieredEngine => new TieredEngine(new Interpreter(), jit, { after });

describe('the bpf_conformance suite across the switch', { skip: CONFORMANCE_MISSING }, () => {
  for (const verified of [false, true]) {
    test(`every case gives its result on the interpreter, then on the JIT (${verified ? 'plain' : 'checked'} code)`, () => {
      const space = new AddressSpace({ initialPages: 16 });
      const engine = tiered(1);
      const helpers = helper5();
      const failures: string[] = [];
      const names = conformanceNames();
      assert.equal(names.length, 313);
      for (const name of names) {
        const c = readCase(name);
        const addr = c.mem.length ? space.alloc(c.mem.length) : 0;
        // checked code (both engines) reaches only registered regions: the case's memory is one
        const region = addr ? space.addRegion({ base: addr, size: c.mem.length, kind: 'ctx', name: name, writable: true }) : undefined;
        const exe = engine.prepare({ name, insns: c.insns, helpers, space, verified });
        try {
          for (const tier of ['interpreter', 'jit'] as const) {
            // each run gets the case's memory afresh (some programs write it)
            if (addr) space.write(addr, c.mem);
            const r = exe.run({ args: [BigInt(addr), BigInt(c.mem.length)] });
            if (r !== c.result) failures.push(`${name} (${tier}): got 0x${r.toString(16)}, want 0x${c.result.toString(16)}`);
            if (exe.tier !== tier) failures.push(`${name}: ran on the ${exe.tier}, not the ${tier}`);
          }
        } catch (e) {
          failures.push(`${name}: ${(e as Error).stack}`);
        } finally {
          exe.close();
        }
        if (region) space.removeRegion(region);
        if (addr) space.free(addr);
      }
      assert.deepEqual(failures, []);
    });
  }
});

test('the switch comes after `after` runs; runCtx and runRepeat count, and the test-run loop moves to WebAssembly', () => {
  const space = new AddressSpace({ initialPages: 16 });
  const exe = tiered(3).prepare({ name: 'sum', insns: assemble('r0 = r1\nr0 += 40\nexit'), helpers: new HelperRegistry(), space, verified: true });
  assert.equal(exe.tier, 'interpreter');
  assert.equal(exe.compiled, undefined);
  assert.equal(exe.run({ args: [2n] }), 42n);
  assert.equal(exe.runCtx(3, 0, undefined), 43);
  assert.equal(exe.runRepeat(4, 0, undefined, 5), undefined, 'the interpreter has no loop of its own');
  assert.equal(exe.run({ args: [5n] }), 45n);
  assert.equal(exe.tier, 'interpreter', 'three runs on the interpreter');
  assert.equal(exe.run({ args: [6n] }), 46n);
  assert.equal(exe.tier, 'jit');
  assert.ok(exe.compiled !== undefined, 'the JIT module is there for prog show');
  assert.equal(exe.runCtx(7, 0, undefined), 47);
  assert.equal(exe.runRepeat(8, 0, undefined, 5), 48);
  exe.close();
  assert.throws(() => exe.run(), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF');
  assert.throws(() => tiered(-1), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  assert.throws(() => tiered(1.5), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  assert.equal(new TieredEngine(new Interpreter(), new JitEngine()).prepare({ name: 'x', insns: assemble('r0 = 0\nexit'), helpers: new HelperRegistry(), space }).tier, 'interpreter');
  assert.ok(DEFAULT_TIER_UP_RUNS > 0);
});

test('no switch inside a run: a nested run of the program stays on the tier of the run around it', () => {
  const space = new AddressSpace({ initialPages: 16 });
  const seen: string[] = [];
  let exe: TieredExecutable | undefined;
  let depth = 0;
  // helper 5 runs the program again, once, from inside a run
  const helpers = new HelperRegistry([
    {
      id: 5,
      name: 'reenter',
      proto: { ret: 'INTEGER', args: ['ANYTHING'] },
      fn: (_env, r1) => {
        if (depth > 0) return r1;
        depth++;
        try {
          const r = exe!.run({ args: [1n] });
          seen.push(exe!.tier);
          return r;
        } finally {
          depth--;
        }
      },
    },
  ]);
  exe = tiered(1).prepare({ name: 'nest', insns: assemble('r1 += 100\ncall 5\nr0 += 1\nexit'), helpers, space, verified: false });
  // outer: r1 = 0 -> 100, the nested run (r1 = 1 -> 101, helper returns 101, r0 = 102) gives 102, outer r0 = 103
  assert.equal(exe.run({ args: [0n] }), 103n);
  assert.deepEqual(seen, ['interpreter'], 'the nested run was due for the JIT but stayed on the interpreter');
  assert.equal(exe.tier, 'interpreter');
  assert.equal(exe.run({ args: [0n] }), 103n);
  assert.equal(exe.tier, 'jit');
  assert.deepEqual(seen, ['interpreter', 'jit']);
  exe.close();
});

test('background: the interpreter runs on while the JIT compiles with prepareAsync; the switch comes after', async () => {
  const space = new AddressSpace({ initialPages: 16 });
  const engine = new TieredEngine(new Interpreter(), new JitEngine(), { after: 1, background: true });
  const exe = engine.prepare({ name: 'bg', insns: assemble('r0 = r1\nr0 <<= 2\nexit'), helpers: new HelperRegistry(), space, verified: true });
  assert.equal(exe.run({ args: [1n] }), 4n);
  assert.equal(exe.compiling, undefined);
  assert.equal(exe.run({ args: [2n] }), 8n, 'the run that starts the compile');
  assert.ok(exe.compiling !== undefined);
  assert.equal(exe.tier, 'interpreter');
  await exe.compiling;
  assert.equal(exe.tier, 'interpreter', 'the switch waits for a run');
  assert.equal(exe.run({ args: [3n] }), 12n);
  assert.equal(exe.tier, 'jit');
  assert.equal(exe.tierUpError, undefined);
  exe.close();
  // closed while compiling: the executable the compile made is closed too
  const jit = new JitEngine();
  const made: Executable[] = [];
  const spy: Engine = {
    kind: 'jit',
    prepare: (image) => jit.prepare(image),
    prepareAsync: async (image) => {
      const e = await jit.prepareAsync(image);
      made.push(e);
      return e;
    },
  };
  const gone = new TieredEngine(new Interpreter(), spy, { after: 1, background: true }).prepare({ name: 'bg2', insns: assemble('r0 = 1\nexit'), helpers: new HelperRegistry(), space, verified: true });
  gone.run();
  gone.run();
  const done = gone.compiling;
  gone.close();
  await done;
  assert.throws(() => gone.run(), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF');
  assert.equal(made.length, 1);
  assert.throws(() => made[0]!.run(), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF');
});

test('a JIT that cannot prepare synchronously yet (Engine.ready false: the CLI\'s lazily imported one) is loaded at the tier-up, in the background; a program that never tiers up never loads it', async () => {
  const space = new AddressSpace({ initialPages: 16 });
  const jit = new JitEngine();
  let loads = 0;
  let loaded = false;
  // the shape of the runtime's lazy engine (src/runtime/runtime.ts): prepare() throws until prepareAsync has loaded it
  const lazy: Engine = {
    kind: 'jit',
    get ready() {
      return loaded;
    },
    prepare(image) {
      if (!loaded) throw new TsbpfError('EINVAL', 'not loaded');
      return jit.prepare(image);
    },
    async prepareAsync(image) {
      loads++;
      await Promise.resolve();
      loaded = true;
      return jit.prepareAsync(image);
    },
  };
  const engine = new TieredEngine(new Interpreter(), lazy, { after: 2 });
  const image = { name: 'lazy', insns: assemble('r0 = r1\nr0 += 5\nexit'), helpers: new HelperRegistry(), space, verified: true };
  const once = engine.prepare(image);
  assert.equal(once.run({ args: [1n] }), 6n);
  once.close();
  assert.equal(loads, 0, 'one run: the JIT is not loaded');
  const exe = engine.prepare(image);
  for (let k = 0n; k < 3n; k++) assert.equal(exe.run({ args: [k] }), k + 5n);
  assert.equal(loads, 1, 'the third run (after: 2) starts its load');
  assert.equal(exe.tier, 'interpreter', 'and still runs on the interpreter');
  assert.equal(exe.tierUpError, undefined);
  await exe.compiling;
  assert.equal(exe.run({ args: [7n] }), 12n);
  assert.equal(exe.tier, 'jit', 'the first run after the load is on the JIT');
  exe.close();
});

test('a program the JIT cannot compile stays on the interpreter, and says why', () => {
  const space = new AddressSpace({ initialPages: 16 });
  const broken: Engine = {
    kind: 'jit',
    prepare() {
      throw new TsbpfError('EINVAL', 'this JIT compiles nothing');
    },
  };
  const exe = tiered(1, broken).prepare({ name: 'x', insns: assemble('r0 = r1\nr0 *= 3\nexit'), helpers: new HelperRegistry(), space, verified: true });
  for (let k = 0n; k < 4n; k++) assert.equal(exe.run({ args: [k] }), 3n * k);
  assert.equal(exe.tier, 'interpreter');
  assert.match(String(exe.tierUpError), /compiles nothing/);
  assert.equal(exe.runRepeat(0, 0, undefined, 3), undefined);
  exe.close();
});

test('xdp_firewall on a tiered runtime: the same verdicts and map counts before and after the switch', async () => {
  const rt = new Runtime({ engine: tiered(2) });
  const c = await loadCollectionFile(join(FIXTURES, 'xdp_firewall.o'), rt);
  const fw = c.program('xdp_firewall');
  const exe = fw.executable as TieredExecutable;
  const udpPkt = eth(0x0800, ip4l4({ src: [10, 9, 9, 9] }, 17, udp(1, 2)));
  const tcpPkt = eth(0x0800, ip4l4({ src: [10, 1, 2, 3] }, 6, tcp(1, 2)));
  const tiers: string[] = [];
  for (let k = 0; k < 3; k++) {
    assert.equal(fw.run({ data: udpPkt }).retval, 2);
    tiers.push(exe.tier);
  }
  c.map('blocklist').set(Uint8Array.of(10, 1, 2, 3), Uint8Array.of(1));
  assert.equal(fw.run({ data: tcpPkt, repeat: 3 }).retval, 1);
  tiers.push(exe.tier);
  assert.deepEqual(tiers, ['interpreter', 'interpreter', 'jit', 'jit']);
  assert.deepEqual(c.map('proto_count').get(17), Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(c.map('proto_count').get(6), Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0));
  rt.close();
});

test('a cycle of tail calls that crosses tiers still stops after 33 (the chain carries its count)', async () => {
  const rt = new Runtime({ engine: tiered(3) });
  const counter = rt.createMap({ name: 'count', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, pinning: 'none' });
  const table = rt.createMap({ name: 'ring', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2, flags: 0, pinning: 'none' });
  // program `slot` counts, then tail-calls the other slot (1 - slot): A -> B -> A -> ...
  const prog = (slot: number): Promise<{ id: number; run: (o: { data: Uint8Array }) => { retval: number }; executable: unknown }> =>
    rt.loadProgram({
      name: `p${slot}`,
      type: 'xdp',
      insns: mapRefs(assemble(countThenTailCall(1 - slot)), counter.id, table.id),
    });
  const a = await prog(0);
  const b = await prog(1);
  table.set(0, a.id);
  table.set(1, b.id);
  const seen = new Set<string>();
  for (let k = 1; k <= 4; k++) {
    counter.set(0, new Uint8Array(8));
    assert.equal(a.run({ data: new Uint8Array(64) }).retval, 7);
    // the entry run plus MAX_TAIL_CALL_CNT (33) tail calls, whichever tier each program was on
    assert.deepEqual(counter.get(0), Uint8Array.of(34, 0, 0, 0, 0, 0, 0, 0), `run ${k}`);
    seen.add(`${(a.executable as TieredExecutable).tier}/${(b.executable as TieredExecutable).tier}`);
  }
  // b counted its tail-call entries and went to the JIT inside a's first, interpreted, run
  assert.ok(seen.has('interpreter/jit'), [...seen].join(' '));
  assert.ok(seen.has('jit/jit'), [...seen].join(' '));
  rt.close();
});

test("RuntimeOptions.engine 'tiered': the interpreter first", async () => {
  const rt = new Runtime({ engine: 'tiered' });
  assert.ok(rt.engine instanceof TieredEngine);
  const p = await rt.loadProgram({ name: 'ret', type: 'xdp', insns: assemble('r0 = 2\nexit') });
  assert.ok(p.executable instanceof TieredExecutable);
  assert.equal(p.run({ data: new Uint8Array(64) }).retval, 2);
  assert.equal((p.executable as TieredExecutable).tier, 'interpreter');
  assert.equal(p.run({ data: new Uint8Array(64), repeat: DEFAULT_TIER_UP_RUNS + 1 }).retval, 2);
  assert.equal((p.executable as TieredExecutable).tier, 'jit');
  rt.close();
});
