/**
 * `npm run bench -- probe-mem`: what the BPF_PROBE_MEM check (src/memory/probe-mem.ts)
 * costs a load through a kernel-object pointer, against the same load
 * unchecked, JIT and interpreter: a loop of 100,000 iterations that loads
 * 8 bytes through r6 and adds them up (the worst case: the loop is little
 * more than the load). With one range in the table (a kit's model, which
 * cuts objects from one arena until it grows) and with 8 (the hit in the
 * last one), and a pointer outside every range (the load yields 0).
 */
import { bestOf8 } from './timing.js';
import { assemble } from '../src/isa/asm.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import type { Engine } from '../src/vm/engine.js';
import type { InsnAux } from '../src/verifier/insn-aux.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { JitEngine } from '../src/vm/jit/index.js';
import { probeTable } from '../src/memory/probe-mem.js';

const LOOP = 'r6 = r1\nr0 = 0\nr3 = 100000\ntop:\nr2 = *(u64 *)(r6 + 8)\nr0 += r2\nr3 -= 1\nif r3 != 0 goto top\nexit';

function measure(engine: Engine, ranges: number, outside: boolean): number[] {
  const space = new AddressSpace({ initialPages: 64 });
  const table = probeTable(space);
  let obj = 0;
  for (let i = 0; i < ranges; i++) {
    obj = space.alloc(4096);
    table.add(obj, 4096);
  }
  const ptr = outside ? space.alloc(64) : obj;
  const insns = assemble(LOOP);
  const load = insns.findIndex((x) => x.code === 0x79);
  const aux: Array<InsnAux | undefined> = [];
  aux[load] = { probeMem: true };
  const image = { name: 'loop', insns, helpers: new HelperRegistry(), space, verified: true };
  const plain = engine.prepare(image);
  const probed = engine.prepare({ ...image, aux });
  const n = engine.kind === 'jit' ? 400 : 40;
  return [bestOf8(n, () => plain.run({ args: [BigInt(ptr)] })) / 1e3, bestOf8(n, () => probed.run({ args: [BigInt(ptr)] })) / 1e3];
}

export async function main(): Promise<void> {
  console.log('\nBPF_PROBE_MEM: a 1e5-iteration loop around one 8-byte load, us per run (best of 8 rounds)');
  console.log('engine       table      pointer    plain load   probe-mem load');
  for (const [name, engine] of [['jit', new JitEngine()], ['interpreter', new Interpreter()]] as const)
    for (const [ranges, outside] of [[1, false], [8, false], [8, true]] as const) {
      const [plain, probed] = measure(engine, ranges, outside);
      const cell = `${probed!.toFixed(1)} (${((probed! / plain! - 1) * 100).toFixed(0)}%)`;
      console.log(`${name.padEnd(12)} ${`${ranges} range${ranges > 1 ? 's' : ''}`.padEnd(10)} ${(outside ? 'outside' : 'inside').padEnd(10)} ${plain!.toFixed(1).padEnd(12)} ${cell}`);
    }
}
