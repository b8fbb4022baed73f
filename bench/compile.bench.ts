/**
 * `npm run bench -- compile`: how long the JIT takes to turn eBPF into
 * runnable code, against uBPF's x86-64 JIT on the same instructions, and
 * where the time of "verify + compile" of a 4,000-instruction program goes.
 *
 * uBPF is built from its public source (https://github.com/iovisor/ubpf,
 * vm/*.c with gcc -O2) with a small harness that times ubpf_load (its
 * validation) + ubpf_compile (translate, mmap, mprotect), the minimum of 41
 * rounds of the process's CPU time (CLOCK_PROCESS_CPUTIME_ID). Give a checkout with UBPF_SRC=DIR; without one the bench tries a
 * shallow git clone and otherwise skips the column, saying why.
 *
 * tsbpf's figure is what a program costs before it has run once: validate,
 * CFG, structuring, encoding (the "front end", src/vm/jit), then V8's part:
 * WebAssembly.Module (validation; V8 compiles functions lazily), Instance,
 * and the first call, which compiles the function (Liftoff). Every round
 * compiles different bytes (one immediate changes), because V8 caches
 * modules by their bytes and a repeat would measure the cache. Minimum of
 * rounds of the process's CPU time (process.cpuUsage: every thread, so V8's
 * background compile and GC threads count), as uBPF's: on a shared machine
 * wall time measures the other processes more than either JIT.
 *
 * The tiered option (the interpreter for a program's first runs, the JIT
 * after: src/vm/tiered.ts) is reported beside it as "to first result": its
 * prepare (validate, decode) and first run on the interpreter, what a caller
 * that chose it waits for before the program has run once.
 *
 * Both figures are steady state: tsbpf's compiler is JavaScript that V8 has
 * optimised by the 41st round. A process that compiles one program (the
 * CLI, a test) runs it unoptimised and pays V8 for parsing and optimising
 * it, so the "first compile" column is one compile in a fresh Node process
 * (its modules already imported), best of FRESH processes' CPU time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../src/isa/asm/index.js';
import { cloneInsns, encode, type Insn } from '../src/isa/insn.js';
import { validateProgram } from '../src/isa/validate.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { JitEngine } from '../src/vm/jit/index.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { TieredEngine } from '../src/vm/tiered.js';
import { compileProgram } from '../src/vm/jit/compile.js';
import { DEFAULT_OUTLINE } from '../src/vm/jit/outline.js';
import { verify } from '../src/verifier/index.js';
import { bigProgram } from './jit.bench.js';
import { buildUbpf } from './ubpf.js';

const ROUNDS = 41;
const FRESH = 3;
const SIZES = [1000, 4000, 16000];

const HARNESS = `#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include "ubpf.h"
static double now(void) { struct timespec ts; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); return ts.tv_sec * 1e9 + ts.tv_nsec; }
int main(int argc, char **argv) {
  static uint8_t code[1 << 20];
  FILE *f = fopen(argv[1], "rb"); size_t n = fread(code, 1, sizeof code, f); fclose(f);
  int rounds = atoi(argv[2]); double best = 1e30;
  for (int k = 0; k < rounds; k++) {
    struct ubpf_vm *vm = ubpf_create(); char *err = NULL;
    /* 64 bytes of x86 per instruction at most: room for any program here */
    if (n / 8 * 64 > 65536) ubpf_set_jit_code_size(vm, n / 8 * 64);
    double t0 = now();
    if (ubpf_load(vm, code, (uint32_t)n, &err) < 0) { fprintf(stderr, "load: %s\\n", err); return 1; }
    if (!ubpf_compile(vm, &err)) { fprintf(stderr, "compile: %s\\n", err); return 1; }
    double t = now() - t0; if (t < best) best = t;
    ubpf_destroy(vm);
  }
  printf("%.0f\\n", best);
  return 0;
}
`;

function ubpfCompileNs(bin: string, dir: string, insns: Insn[]): number {
  const file = join(dir, `prog-${insns.length}.bin`);
  writeFileSync(file, encode(insns));
  return Number(execFileSync(bin, [file, String(ROUNDS)], { encoding: 'utf8' }).trim());
}

interface Split {
  front: number;
  module: number;
  instance: number;
  firstCall: number;
  total: number;
}

/** CPU time of this process in ms (all threads), as performance.now() would give wall time. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** tsbpf's compile of `insns`, phase by phase (minimum of rounds each), with distinct bytes per round. */
function tsbpfCompile(insns: Insn[], whole = false): Split {
  const opts = {
    shared: false,
    budget: false,
    stackSize: 512,
    stackBase: 1 << 16,
    memMinPages: 0,
    memMaxPages: undefined,
    // `whole`: no function split into regions (jit/outline.ts), to show what outlining buys
    ...(whole ? { outline: { ...DEFAULT_OUTLINE, above: Infinity } } : {}),
  };
  const mem = new WebAssembly.Memory({ initial: 4 });
  const none = (): bigint => 0n;
  const imports = { e: { mem, fault: none, tail: () => 0, callx: none, ldpkt: none }, h: {} };
  const best: Split = { front: Infinity, module: Infinity, instance: Infinity, firstCall: Infinity, total: Infinity };
  for (let k = 0; k < ROUNDS + 1; k++) {
    const prog = cloneInsns(insns);
    prog[0]!.imm = (whole ? 5000 : 1000) + k; // `r0 = imm`: new bytes every round (V8 caches modules by bytes)
    const t0 = cpuNow();
    validateProgram(prog);
    const c = compileProgram(prog, opts);
    const t1 = cpuNow();
    const m = new WebAssembly.Module(c.bytes as BufferSource);
    const t2 = cpuNow();
    const inst = new WebAssembly.Instance(m, imports);
    const t3 = cpuNow();
    (inst.exports['run'] as (...a: unknown[]) => bigint)(0n, 0n, 0n, 0n, 0n, 1 << 17, 0);
    const t4 = cpuNow();
    if (k === 0) continue; // the first compile in a process also warms up the compiler's own JS
    best.front = Math.min(best.front, (t1 - t0) * 1e6);
    best.module = Math.min(best.module, (t2 - t1) * 1e6);
    best.instance = Math.min(best.instance, (t3 - t2) * 1e6);
    best.firstCall = Math.min(best.firstCall, (t4 - t3) * 1e6);
    best.total = Math.min(best.total, (t4 - t0) * 1e6);
  }
  return best;
}

/**
 * The tiered option (src/vm/tiered.ts, RuntimeOptions.engine 'tiered'):
 * CPU time from the instructions to the first run's result, which the
 * interpreter gives (its prepare validates and decodes; no compile). Minimum
 * of rounds, different bytes every round as for the JIT.
 */
function tieredFirstRun(insns: Insn[]): number {
  const space = new AddressSpace({ initialPages: 16 });
  const engine = new TieredEngine(new Interpreter(), new JitEngine());
  const helpers = new HelperRegistry();
  let best = Infinity;
  for (let k = 0; k < ROUNDS + 1; k++) {
    const prog = cloneInsns(insns);
    prog[0]!.imm = 9000 + k;
    const t0 = cpuNow();
    const exe = engine.prepare({ name: 'big', insns: prog, helpers, space, verified: true });
    exe.run({ args: [0n] });
    const t = cpuNow() - t0;
    exe.close();
    if (k > 0) best = Math.min(best, t * 1e6);
  }
  return best;
}

/**
 * The first compile of a `size`-instruction bigProgram in a fresh Node
 * process (modules imported beforehand, not timed): CPU time of validate,
 * compileProgram, Module, Instance and the first call, best of FRESH processes.
 */
function firstCompileNs(size: number, tiered = false): number {
  const url = (f: string): string => JSON.stringify(new URL(f, import.meta.url).href);
  // tiered: the same program's first result through TieredEngine (the interpreter), its modules imported beforehand too
  const script = tiered
    ? `
    const { bigProgram } = await import(${url('./jit.bench.js')});
    const { Interpreter } = await import(${url('../src/vm/interpreter.js')});
    const { JitEngine } = await import(${url('../src/vm/jit/index.js')});
    const { TieredEngine } = await import(${url('../src/vm/tiered.js')});
    const { AddressSpace } = await import(${url('../src/memory/address-space.js')});
    const { HelperRegistry } = await import(${url('../src/vm/helper-abi.js')});
    const insns = bigProgram(${size});
    const space = new AddressSpace({ initialPages: 16 });
    const helpers = new HelperRegistry();
    const u0 = process.cpuUsage();
    const exe = new TieredEngine(new Interpreter(), new JitEngine()).prepare({ name: 'big', insns, helpers, space, verified: true });
    exe.run({ args: [0n] });
    const u = process.cpuUsage(u0);
    console.log((u.user + u.system) * 1000);`
    : `
    const { bigProgram } = await import(${url('./jit.bench.js')});
    const { validateProgram } = await import(${url('../src/isa/validate.js')});
    const { compileProgram } = await import(${url('../src/vm/jit/compile.js')});
    const insns = bigProgram(${size});
    const mem = new WebAssembly.Memory({ initial: 4 });
    const none = () => 0n;
    const u0 = process.cpuUsage();
    validateProgram(insns);
    const c = compileProgram(insns, { shared: false, budget: false, stackSize: 512, stackBase: 1 << 16, memMinPages: 0, memMaxPages: undefined });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(c.bytes), { e: { mem, fault: none, tail: () => 0, callx: none, ldpkt: none }, h: {} });
    inst.exports.run(0n, 0n, 0n, 0n, 0n, 1 << 17, 0);
    const u = process.cpuUsage(u0);
    console.log((u.user + u.system) * 1000);`;
  let best = Infinity;
  for (let k = 0; k < FRESH; k++)
    best = Math.min(best, Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()));
  return best;
}

/**
 * The first and second verify() of verifiableProgram (`r0 = 1`, as the timed rounds) in a fresh
 * Node process, its modules imported beforehand (not timed): CPU time of each, best of FRESH
 * processes. The first runs the verifier in V8's interpreter while V8 starts optimising it (on
 * background threads, which process CPU time counts); the second is what a loader that verifies
 * its second program pays.
 */
function firstVerifiesNs(): [number, number] {
  const url = (f: string): string => JSON.stringify(new URL(f, import.meta.url).href);
  const script = `
    const { verifiableProgram } = await import(${url('./compile.bench.js')});
    const { verify } = await import(${url('../src/verifier/index.js')});
    const { HelperRegistry } = await import(${url('../src/vm/helper-abi.js')});
    const { cloneInsns } = await import(${url('../src/isa/insn.js')});
    const helpers = new HelperRegistry();
    const prog = verifiableProgram(4000);
    const out = [];
    for (let k = 1; k <= 2; k++) {
      const insns = cloneInsns(prog);
      insns[1].imm = k;
      const u0 = process.cpuUsage();
      const res = verify({ insns, progType: 'xdp', maps: [], mapOfInsn: () => undefined, helpers: (id) => helpers.get(id), privileged: true, license: 'GPL', sleepable: false });
      const u = process.cpuUsage(u0);
      if (!res.ok) throw new Error('verifiableProgram rejected');
      out.push((u.user + u.system) * 1000);
    }
    console.log(out.join(' '));`;
  const best: [number, number] = [Infinity, Infinity];
  for (let k = 0; k < FRESH; k++) {
    const [a, b] = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim().split(' ').map(Number);
    best[0] = Math.min(best[0], a!);
    best[1] = Math.min(best[1], b!);
  }
  return best;
}

/**
 * A 4,000-instruction program the verifier accepts: bigProgram's branch
 * diamonds over a value read from the context in each (so the paths agree
 * at every join and pruning keeps the walk linear).
 */
export function verifiableProgram(target = 4000): Insn[] {
  const lines = ['r6 = r1', 'r0 = 0', 'r2 = 0', '*(u64 *)(r10 - 8) = r2'];
  for (let k = 0; lines.length < target * 1.3; k++)
    lines.push('r1 = *(u32 *)(r6 + 12)', `if r1 > ${k} goto t${k}`, 'r0 += r1', 'r2 ^= r0', 'r0 = *(u64 *)(r10 - 8)', `goto j${k}`, `t${k}:`, 'r0 *= 3', 'w2 += 7', `j${k}:`);
  lines.push('r0 = 0', 'exit');
  return assemble(lines.join('\n'));
}

const ms = (ns: number): string => `${(ns / 1e6).toFixed(2)} ms`;

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-compile-'));
  try {
    const load0 = loadavg();
    const ubpf = buildUbpf(dir, HARNESS, 'ubpf-compile');
    console.log(`\n## compile: eBPF to runnable code, minimum of ${ROUNDS} rounds (CPU time), against uBPF's x86-64 JIT\n`);
    console.log('| insns | tsbpf front end | WebAssembly.Module | Instance | first call (V8 compiles) | tsbpf total | per 1,000 insns | (total, not outlined) | uBPF load + compile | per 1,000 insns | tsbpf / uBPF | tiered: to first result | tiered / uBPF | tsbpf first compile in a process | tiered: first result in a process |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const size of SIZES) {
      const insns = bigProgram(size);
      const s = tsbpfCompile(insns);
      const w = tsbpfCompile(insns, true);
      const u = typeof ubpf === 'string' ? undefined : ubpfCompileNs(ubpf.bin, dir, insns);
      const tier = tieredFirstRun(insns);
      const first = firstCompileNs(size);
      const firstTiered = firstCompileNs(size, true);
      const per = (ns: number): string => `${((ns / insns.length) * 1000 / 1e6).toFixed(3)} ms`;
      console.log(
        `| ${insns.length} | ${ms(s.front)} | ${ms(s.module)} | ${ms(s.instance)} | ${ms(s.firstCall)} | ${ms(s.total)} | ${per(s.total)} | ${ms(w.total)} | ${u === undefined ? '-' : ms(u)} | ${u === undefined ? '-' : per(u)} | ${u === undefined ? '-' : `${(s.total / u).toFixed(2)}x`} | ${ms(tier)} | ${u === undefined ? '-' : `${(tier / u).toFixed(2)}x`} | ${ms(first)} | ${ms(firstTiered)} |`,
      );
    }
    if (typeof ubpf === 'string') console.log(`uBPF: skipped (${ubpf})`);

    // Verification + compile of a 4,000-instruction program: where the time goes.
    const prog = verifiableProgram(4000);
    const space = new AddressSpace({ initialPages: 16 });
    const helpers = new HelperRegistry();
    const jit = new JitEngine();
    const tiered = new TieredEngine(new Interpreter(), jit);
    let vBest = Infinity;
    let vWarm = Infinity;
    let cBest = Infinity;
    let tBest = Infinity;
    // Eight untimed rounds first: a long-running loader's verifier is compiled by V8 (a fresh
    // process's first verify is the "cold" figure of verify-vs-kernel). `r0 = k` gives new bytes
    // every round; k >= 1 keeps every round on the same walk (k = 0 prunes half of it). V8 is
    // still re-optimising the verifier in rounds 9-16 (their minimum is 10-15% above the one of
    // rounds 17 onwards): the verifier's best of rounds 25-40 is printed beside it.
    let processed = 0;
    for (let k = 1; k <= 40; k++) {
      const timed = k > 8 && k <= 16;
      const insns = cloneInsns(prog);
      insns[1]!.imm = k;
      const t0 = cpuNow();
      const res = verify({ insns, progType: 'xdp', maps: [], mapOfInsn: () => undefined, helpers: (id) => helpers.get(id), privileged: true, license: 'GPL', sleepable: false });
      const t1 = cpuNow();
      if (!res.ok) throw new Error(`verifiableProgram rejected: ${res.log.slice(-300)}`);
      const exe = jit.prepare({ name: 'big', insns, helpers, space, verified: true, aux: res.aux });
      const ctx = space.alloc(24);
      exe.run({ args: [BigInt(ctx)] });
      const t2 = cpuNow();
      const t3 = cpuNow();
      const tex = tiered.prepare({ name: 'big', insns, helpers, space, verified: true, aux: res.aux });
      tex.run({ args: [BigInt(ctx)] });
      const t4 = cpuNow();
      tex.close();
      exe.close();
      space.free(ctx);
      processed = res.stats.processedInsns;
      if (k > 24) vWarm = Math.min(vWarm, (t1 - t0) * 1e6);
      if (!timed) continue;
      vBest = Math.min(vBest, (t1 - t0) * 1e6);
      cBest = Math.min(cBest, (t2 - t1) * 1e6);
      tBest = Math.min(tBest, (t4 - t3) * 1e6);
    }
    const [first, second] = firstVerifiesNs();
    console.log(
      `\nverify + compile + first run of a ${prog.length}-instruction XDP program (goal < 5 ms): verifier ${ms(vBest)} (${processed} insns processed), JIT ${ms(cBest)}, or tiered (interpreter first) ${ms(tBest)} (CPU time, best of 8 each after 8 untimed rounds); verifier ${ms(vWarm)} best of rounds 25-40; in a fresh process (best of ${FRESH}) the first verify ${ms(first)}, the second ${ms(second)}`,
    );
    console.log(`load average: ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${loadavg().map((x) => x.toFixed(2)).join(' ')} after`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
