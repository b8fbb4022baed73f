/**
 * Interpreter and JIT agree on the verifier fuzzer's accepted programs
 * (issue 6, part 5): each program the verifier accepts is loaded into two
 * runtimes — one interpreting, one JIT-compiling, both trusting the verifier
 * as a real load does — with the same map contents, run on the same random
 * packets through the test run, and the return values, output packets and
 * final map contents must be equal. Programs whose results depend on
 * addresses (root may return or store pointers) are detected by running the
 * interpreter twice with memory laid out differently, and left out (counted).
 * The seed is printed for replay
 * (TSBPF_JITDIFF_SEED, TSBPF_JITDIFF_COUNT).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { assemble } from '../src/isa/asm.js';
import { Runtime } from '../src/runtime/runtime.js';
import { ManualClock } from '../src/runtime/host.js';
import { TestRunError } from '../src/runtime/testrun/types.js';
import { verify } from '../src/verifier/index.js';
import { JitEngine } from '../src/vm/jit/index.js';
import type { BpfMap } from '../src/maps/map.js';
import { generate, Rng, type GenProgram } from './fuzz/verifier-gen.js';
import { expandMaps, withMapIds } from './fuzz/verifier-harness.js';

// A fixed seed by default, so CI is reproducible; set TSBPF_JITDIFF_SEED (and _COUNT) to explore.
const SEED = Number(process.env.TSBPF_JITDIFF_SEED ?? 20261122);
const COUNT = Number(process.env.TSBPF_JITDIFF_COUNT ?? 400);

interface Observed {
  results: string[];
  maps: string[];
}

async function observe(engine: 'interpreter' | 'jit' | 'outlined', program: GenProgram, seed: number, shift = 0): Promise<Observed> {
  // A stopped clock and a fixed prandom seed: both engines must see the same helper results.
  // 'outlined': every function split into regions of a few instructions (jit/outline.ts).
  const rt = new Runtime({
    engine: engine === 'outlined' ? new JitEngine({ outline: { above: 0, target: 3, min: 1 } }) : engine,
    seed: 1,
    clock: new ManualClock(),
  });
  // `shift` moves every later allocation (maps, packets, stacks) to other addresses.
  if (shift) rt.space.alloc(shift);
  try {
    const rng = new Rng(seed ^ 0x5eed);
    const maps: BpfMap<unknown>[] = program.maps.map((m, i) =>
      rt.createMap({ name: `m${i}`, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: 0, pinning: 'none' }),
    );
    for (const m of maps) {
      for (let k = 0; k < 3; k++) {
        const key = new Uint8Array(4);
        key[0] = k;
        const value = new Uint8Array(m.valueSize).map(() => rng.int(0, 255));
        try {
          m.set(key, value as never);
        } catch {
          /* an array's key out of range: fine */
        }
      }
    }
    const insns = withMapIds(assemble(expandMaps(program.source), { dialect: 'kernel' }), maps);
    const prog = await rt.loadProgram({ name: 'fuzz', type: program.type, insns });
    const results: string[] = [];
    for (let k = 0; k < 4; k++) {
      const len = program.type === 'xdp' ? rng.pick([14, 20, 34, 42, 60, 64, 100]) : rng.int(14, 100);
      const pkt = new Uint8Array(len).map(() => rng.int(0, 255));
      if (program.type !== 'xdp') pkt.set([0x88, 0xb5], 12);
      try {
        const r = prog.run({ data: pkt });
        results.push(`${r.retval} ${Buffer.from(r.data ?? new Uint8Array()).toString('hex')}`);
      } catch (e) {
        if (e instanceof TestRunError) results.push(`refused ${e.errno}`);
        else results.push(`error ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    const mapDump = maps.map((m) => [...m.entries()].map(([key, v]) => `${Buffer.from(key as Uint8Array).toString('hex')}=${Buffer.from(v as Uint8Array).toString('hex')}`).sort().join(','));
    return { results, maps: mapDump };
  } finally {
    rt.close();
  }
}

test(`interpreter and JIT (whole and outlined) agree on ${COUNT} fuzzer programs the verifier accepts (seed ${SEED})`, async () => {
  let compared = 0;
  let addressDependent = 0;
  for (let i = 0; i < COUNT; i++) {
    const seed = (SEED + i) >>> 0;
    const program = generate(seed);
    const insns = assemble(expandMaps(program.source), { dialect: 'kernel' });
    const res = verify({
      insns,
      progType: program.type,
      maps: program.maps.map((m, j) => ({ name: `m${j}`, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: 0 })),
      complexityLimit: 200_000,
    });
    if (!res.ok) continue;
    const a = await observe('interpreter', program, seed);
    // Root may return or store pointers; such results depend on where things are, and two
    // runtimes lay memory out differently. Moving everything in the interpreter alone shows them.
    if (!isDeepStrictEqual(a, await observe('interpreter', program, seed, 8192))) {
      addressDependent++;
      continue;
    }
    const b = await observe('jit', program, seed);
    assert.deepEqual(b, a, `seed ${seed}: the JIT differs from the interpreter\n${program.source}`);
    assert.deepEqual(await observe('outlined', program, seed), a, `seed ${seed}: the outlined JIT differs from the interpreter\n${program.source}`);
    compared++;
  }
  console.log(`jit differential: ${compared} accepted programs of ${COUNT} compared, ${addressDependent} left out as address-dependent (seed ${SEED})`);
  assert.ok(compared >= COUNT / 4, `only ${compared} of ${COUNT} programs were accepted: the comparison proves little`);
});
