/**
 * `npm run bench -- interp`: the interpreter's speed in ns per executed
 * instruction on compute loops, against uBPF's C interpreter running the
 * same instructions in the same run (built from its public source:
 * bench/ubpf.ts, UBPF_SRC=DIR), with uBPF's JIT and the same loop in plain
 * JavaScript for context.
 *
 * Each loop runs ~20-30M instructions; the figure is the best of three runs
 * after a warm-up, CPU time of the process (the machine may be shared).
 */
import { assemble } from '../src/isa/asm.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { prepareRaw } from '../src/conformance/runner.js';
import type { InterpExecutable } from '../src/vm/interpreter.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ubpfRunner } from './ubpf.js';

interface Loop {
  name: string;
  /** assembly (kernel syntax) */
  src: string;
  /** the same computation in JavaScript, returning the same r0 */
  js: () => number;
}

const N = 10_000_000;

const LOOPS: Loop[] = [
  {
    name: 'count (add, jne)',
    // 3 instructions per iteration
    src: `r0 = 0
r1 = ${N}
l: r0 += 1
r1 += -1
if r1 != 0 goto l
exit`,
    js: () => {
      let r0 = 0;
      for (let r1 = N; r1 !== 0; r1--) r0++;
      return r0;
    },
  },
  {
    name: 'xorshift64 (shifts, xor, 64-bit)',
    // 8 instructions per iteration
    src: `r0 = 88172645 ll
r1 = ${N / 2.5}
l: r2 = r0
r2 <<= 13
r0 ^= r2
r2 = r0
r2 >>= 7
r0 ^= r2
r1 += -1
if r1 != 0 goto l
exit`,
    js: () => {
      let x = 88172645n;
      for (let i = 0; i < N / 2.5; i++) {
        x ^= BigInt.asUintN(64, x << 13n);
        x ^= x >> 7n;
      }
      return Number(x & 0xffffffffn);
    },
  },
  {
    name: 'stack sum (stx, ldx, alu32, jlt)',
    // 7 instructions per iteration
    src: `r1 = 0
*(u64 *)(r10 -8) = r1
r2 = 0
l: r3 = *(u64 *)(r10 -8)
r3 += r2
*(u64 *)(r10 -8) = r3
w4 = w2
w4 *= 3
r2 += 1
if r2 < ${Math.floor(N / 2.3)} goto l
r0 = *(u64 *)(r10 -8)
exit`,
    js: () => {
      const m = new Float64Array(1);
      for (let i = 0; i < Math.floor(N / 2.3); i++) m[0]! += i;
      return Number(BigInt(m[0]!) & 0xffffffffn);
    },
  },
];

interface Timing {
  wall: number;
  cpu: number;
}

/** Best of `reps` runs, wall-clock and this process's user CPU time (less sensitive to a loaded machine), in ns. */
function best(fn: () => void, reps = 3): Timing {
  let wall = Infinity;
  let cpu = Infinity;
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    wall = Math.min(wall, Number(process.hrtime.bigint() - t0));
    cpu = Math.min(cpu, process.cpuUsage(c0).user * 1000);
  }
  return { wall, cpu };
}

/**
 * The floor of this interpreter design: a four-opcode switch-dispatch loop
 * over the same packed encoding and lo/hi register file, running the count
 * loop. Whatever the full interpreter costs above this is the price of its
 * completeness (160 cases, checked memory, budget accounting).
 */
function dispatchFloor(n: number): number {
  const code = new Int32Array([0xb7, 0xb7 | (2 << 9), 0x07, 0x07 | (2 << 9), 0x55 | (2 << 9), 0x95]);
  const imm = new Int32Array([0, n, 1, -1, 0, 0]);
  const off = new Int32Array([0, 0, 0, 0, 2, 0]);
  const R = new Int32Array(32);
  let pc = 0;
  let left = 2 ** 30;
  for (;;) {
    if (--left < 0) throw new Error('budget');
    const w = code[pc]!;
    const d = (w >>> 9) & 31;
    switch (w & 0x1ff) {
      case 0x07: {
        const a = R[d]!;
        const b = imm[pc]!;
        const lo = (a + b) | 0;
        R[d + 1] = (R[d + 1]! + (b >> 31) + ((lo >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
        R[d] = lo;
        pc++;
        continue;
      }
      case 0xb7: {
        const b = imm[pc]!;
        R[d] = b;
        R[d + 1] = b >> 31;
        pc++;
        continue;
      }
      case 0x55: {
        const b = imm[pc]!;
        pc = R[d] !== b || R[d + 1] !== b >> 31 ? off[pc]! : pc + 1;
        continue;
      }
      case 0x95:
        return R[0]!;
      default:
        throw new Error('opcode');
    }
  }
}

export async function main(): Promise<void> {
  {
    dispatchFloor(1000);
    const t = best(() => dispatchFloor(N));
    const count = 3 * N + 3;
    console.log(
      `\ncontext: a minimal 4-opcode switch loop (the floor of this design) runs the count loop at ${(t.wall / count).toFixed(2)} ns/insn wall, ${(t.cpu / count).toFixed(2)} ns/insn cpu`,
    );
  }
  const engine = new Interpreter();
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-interp-'));
  const ubpf = ubpfRunner(dir);
  const load0 = loadavg()[0]!;
  console.log("\n## interp: ns per executed instruction (CPU time, best of 3), against uBPF's C interpreter in the same run\n");
  console.log('| loop | insns | tsbpf interp (wall) | tsbpf interp (CPU) | uBPF interp (CPU) | uBPF / tsbpf | uBPF JIT (CPU) | plain JS |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  try {
    for (const loop of LOOPS) {
      const insns = assemble(loop.src, { dialect: 'kernel' });
      const raw = prepareRaw(insns, undefined, engine, loop.name);
      const exe = raw.exe as InterpExecutable;
      const r0 = exe.run({ args: raw.args, budget: Number.MAX_SAFE_INTEGER }); // warm-up, and the instruction count
      const count = exe.lastInsnCount;
      const t = best(() => exe.run({ args: raw.args, budget: Number.MAX_SAFE_INTEGER }));
      let jsR0 = 0;
      const js = best(() => {
        jsR0 = loop.js();
      });
      if (BigInt(jsR0) !== (r0 & 0xffffffffn) && BigInt(jsR0) !== r0) throw new Error(`${loop.name}: JS gives ${jsR0}, eBPF 0x${r0.toString(16)}`);
      const ub = (mode: 'interp' | 'jit'): number | string => {
        if (typeof ubpf === 'string') return '-';
        const u = ubpf.run(insns, new Uint8Array(64), mode, 1, 3);
        if (typeof u === 'string') return u;
        if (u.r0 !== r0) return `r0 ${u.r0} != ${r0}`;
        return u.ns / count;
      };
      const ui = ub('interp');
      const uj = ub('jit');
      const cpu = t.cpu / count;
      const f = (v: number | string): string => (typeof v === 'number' ? v.toFixed(2) : v);
      console.log(
        `| ${loop.name} | ${(count / 1e6).toFixed(1)}M | ${(t.wall / count).toFixed(2)} | ${cpu.toFixed(2)} | ${f(ui)} | ${typeof ui === 'number' ? `${(ui / cpu).toFixed(2)}x` : '-'} | ${f(uj)} | ${(js.wall / count).toFixed(2)} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (typeof ubpf === 'string') console.log(`uBPF: skipped (${ubpf})`);
  console.log('\n"uBPF / tsbpf": above 1x is tsbpf\'s interpreter faster than uBPF\'s, below 1x slower.');
  console.log('"plain JS": the same computation as a JavaScript loop (BigInt for 64-bit xorshift), wall time divided by the eBPF instruction count.');
  console.log(`load average ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (2 cores: above 1-2 the machine is shared)`);
}
