/**
 * `npm run bench -- deadline`: what a run deadline (RuntimeOptions.runDeadline)
 * costs, against the same programs without one, measured in the same run,
 * JIT and interpreter:
 *   - a 3-instruction loop of 100,000 iterations (the worst case: the JIT
 *     checks at every loop head, so the check is as large as the body);
 *   - examples' xdp_firewall through the test run (no loop: one check at entry);
 *   - the hooks' entry (Executable.runCtx) on a straight-line program.
 * Without a deadline nothing is compiled in: the "off" column is the plain code.
 */
import { fileURLToPath } from 'node:url';
import { bestOf8 } from './timing.js';
import { dirname, resolve } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { assemble } from '../src/isa/asm.js';
import { loadObjectFile } from '../src/object/file.js';
import type { RunDeadline } from '../src/vm/engine.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');

/** ns per call of `fn` (bench/timing.ts), warmed with up to 1000 calls. */
const time = (n: number, fn: () => void): number => bestOf8(n, fn, 1000);

async function measure(engine: 'jit' | 'interpreter', deadline?: RunDeadline): Promise<number[]> {
  const rt = new Runtime({ engine, ...(deadline ? { runDeadline: deadline } : {}) });
  const loop = await rt.loadProgram({ type: 'xdp', insns: assemble('r0 = 0\nr1 = 100000\ntop:\nr0 += 1\nr1 -= 1\nif r1 != 0 goto top\nexit') });
  const fw = (await rt.load(await loadObjectFile(resolve(ROOT, 'fixtures/xdp_firewall.o')))).program('xdp_firewall');
  const straight = (await rt.loadProgram({ type: 'kprobe', insns: assemble('r0 = *(u32 *)(r1 + 0)\nr0 += 1\nexit') })).executable;
  const ctx = rt.space.alloc(168);
  const pkt = new Uint8Array(64);
  const jit = engine === 'jit';
  const out = [
    time(jit ? 400 : 40, () => loop.run({ data: pkt })) / 1e3,
    time(jit ? 200_000 : 20_000, () => fw.run({ data: pkt })),
    time(jit ? 2_000_000 : 200_000, () => (straight.runCtx ? straight.runCtx(ctx, 0, {}) : straight.run({ args: [BigInt(ctx)] }))),
  ];
  rt.close();
  return out;
}

export async function main(): Promise<void> {
  console.log('\nrun deadlines: cost per run, off vs on (best of 8 rounds)');
  console.log('engine       deadline              loop 1e5 (us)   xdp_firewall test run (ns)   hook entry (ns)');
  const configs = [['off', undefined], ['instructions', { instructions: 1e15 }], ['ms', { ms: 1e9 }]] as const;
  for (const engine of ['jit', 'interpreter'] as const) {
    // Three passes over the configurations, the best of each (the first pass also warms the engine's code).
    const best: number[][] = configs.map(() => [Infinity, Infinity, Infinity]);
    for (let pass = 0; pass < 3; pass++)
      for (let c = 0; c < configs.length; c++) {
        const m = await measure(engine, configs[c]![1]);
        best[c] = best[c]!.map((b, k) => Math.min(b, m[k]!));
      }
    const off = best[0]!;
    for (let c = 0; c < configs.length; c++) {
      const [label, d] = configs[c]!;
      const v = best[c]!;
      const cell = (k: number, digits: number): string => `${v[k]!.toFixed(digits)}${d ? ` (${((v[k]! / off[k]! - 1) * 100).toFixed(0)}%)` : ''}`;
      console.log(`${engine.padEnd(12)} ${label.padEnd(20)}  ${cell(0, 1).padEnd(15)} ${cell(1, 0).padEnd(28)} ${cell(2, 1)}`);
    }
  }
}
