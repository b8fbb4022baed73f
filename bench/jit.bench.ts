/**
 * `npm run bench -- jit`: the JIT against the interpreter, native code
 * (`gcc -O2`, the physical limit) and, where root and bpftool exist, the
 * kernel's own JIT (`bpftool prog run ... repeat N`) and uBPF's interpreter
 * and JIT (built from its public source, bench/ubpf.ts) on the same programs.
 *
 * Every program is one eBPF assembly text, assembled by tsbpf for the
 * interpreter and the JIT and by `clang-19 -target bpf -c` for the kernel,
 * so the kernel runs exactly the instructions tsbpf runs. All are XDP
 * programs: r1 is a `struct xdp_md` whose data/data_end bound a packet (in
 * tsbpf the context holds real 32-bit addresses of the address space:
 * docs/architecture.md, "Memory model"). Loop counts are constants, so the
 * kernel verifier can bound every loop.
 *
 * Times are the minimum over several batches (the machine is shared; the
 * minimum is the least disturbed measurement), per run of the program.
 * "JIT" is one `exe.run()` from JavaScript per run; "JIT repeat" is one pass
 * of the module's own `repeat` loop (Executable.runRepeat), which like the
 * kernel's test-run loop pays no call from JavaScript per run; "paired" is
 * that loop timed in a batch right after each of the kernel's batches (as
 * many runs), so the pair is measured at the same moments.
 */
import { execFileSync } from 'node:child_process';
import { which } from '../test/support/tools.js';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../src/isa/asm/index.js';
import type { Insn } from '../src/isa/insn.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import type { Executable } from '../src/vm/engine.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { JitEngine, JitExecutable } from '../src/vm/jit/index.js';
import { ubpfRunner } from './ubpf.js';

export interface BenchProg {
  name: string;
  /** compute-bound: no memory traffic beyond registers (the 1.2x goal applies) */
  compute: boolean;
  /** packet bytes */
  size: number;
  fill(p: Uint8Array): void;
  /** body after the prologue, which leaves data in r6 and data_end in r7 */
  asm: string;
  /** the same algorithm in C: a function body over `uint8_t *p`, returning uint64_t */
  c: string;
  /** C statements filling `p` (for packets too large for an initializer in the harness) */
  cFill?: string;
  /** why the kernel cannot run it, if it cannot */
  noKernel?: string;
}

const PROLOGUE = (size: number): string => `
  r6 = *(u32 *)(r1 + 0)
  r7 = *(u32 *)(r1 + 4)
  r2 = r6
  r2 += ${size}
  if r2 > r7 goto fail
`;
/** uBPF's calling convention: r1 = the memory, r2 = its length. */
const UBPF_PROLOGUE = (size: number): string => `
  r6 = r1
  r7 = r1
  r7 += r2
  r2 = r6
  r2 += ${size}
  if r2 > r7 goto fail
`;
const EPILOGUE = `
fail:
  r0 = 0
  exit
`;

const zeros = (): void => undefined;

export const PROGRAMS: BenchProg[] = [
  {
    name: 'fibonacci',
    compute: true,
    size: 64,
    fill: zeros,
    asm: `
  r1 = 0
  r2 = 1
  r4 = 0
loop:
  r3 = r1
  r1 += r2
  r2 = r3
  r4 += 1
  if r4 < 50000 goto loop
  r0 = r1
  exit`,
    c: `const uint64_t n = N(50000); uint64_t a = 0, b = 1, t; for (uint64_t i = 0; i < n; i++) { t = a; a += b; b = t; } return a;`,
  },
  {
    name: 'compute loop (xorshift)',
    compute: true,
    size: 64,
    fill: zeros,
    asm: `
  r0 = 0
  r1 = 0x2545f4914f6cdd1d ll
  r4 = 0
loop:
  r2 = r1
  r2 <<= 13
  r1 ^= r2
  r2 = r1
  r2 >>= 7
  r1 ^= r2
  r2 = r1
  r2 <<= 17
  r1 ^= r2
  r0 += r1
  r0 *= 0x2545f491
  r4 += 1
  if r4 < 20000 goto loop
  exit`,
    c: `const uint64_t n = N(20000); uint64_t r0 = 0, x = 0x2545f4914f6cdd1dULL; for (uint64_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; r0 += x; r0 *= 0x2545f491; } return r0;`,
  },
  {
    name: 'log2 (branchy)',
    compute: true,
    size: 64,
    fill: zeros,
    asm: `
  r0 = 0
  r4 = 1
loop:
  r1 = r4
  r1 *= 0x3e3779b1
  r2 = 0
  r3 = r1
  r3 >>= 32
  if r3 == 0 goto lg16
  r1 = r3
  r2 += 32
lg16:
  r3 = r1
  r3 >>= 16
  if r3 == 0 goto lg8
  r1 = r3
  r2 += 16
lg8:
  r3 = r1
  r3 >>= 8
  if r3 == 0 goto lg4
  r1 = r3
  r2 += 8
lg4:
  r3 = r1
  r3 >>= 4
  if r3 == 0 goto lg2
  r1 = r3
  r2 += 4
lg2:
  r3 = r1
  r3 >>= 2
  if r3 == 0 goto lg1
  r1 = r3
  r2 += 2
lg1:
  r3 = r1
  r3 >>= 1
  if r3 == 0 goto done
  r2 += 1
done:
  r0 += r2
  r4 += 1
  if r4 < 8000 goto loop
  exit`,
    c: `const uint64_t n = N(8000); uint64_t r0 = 0; for (uint64_t i = 1; i < n; i++) { uint64_t v = i * 0x3e3779b1ULL, l = 0;
      if (v >> 32) { v >>= 32; l += 32; } if (v >> 16) { v >>= 16; l += 16; } if (v >> 8) { v >>= 8; l += 8; }
      if (v >> 4) { v >>= 4; l += 4; } if (v >> 2) { v >>= 2; l += 2; } if (v >> 1) l += 1; r0 += l; } return r0;`,
  },
  {
    name: 'switch dispatcher',
    compute: true,
    size: 64,
    fill: zeros,
    asm: `
  r0 = 1
  r4 = 0
loop:
  r1 = r4
  r1 *= 7
  r1 += r0
  r1 &= 7
  if r1 > 3 goto hi
  if r1 > 1 goto c23
  if r1 == 0 goto c0
  r0 ^= r4
  goto next
c0:
  r0 += 3
  goto next
c23:
  if r1 == 3 goto c3
  r0 *= 5
  goto next
c3:
  r0 -= r4
  goto next
hi:
  if r1 > 5 goto c67
  if r1 == 5 goto c5
  r2 = r0
  r2 >>= 3
  r0 += r2
  goto next
c5:
  r0 |= 1
  goto next
c67:
  if r1 == 7 goto c7
  r0 <<= 1
  goto next
c7:
  r0 += 12345
next:
  r4 += 1
  if r4 < 10000 goto loop
  exit`,
    c: `const uint64_t n = N(10000); uint64_t r0 = 1; for (uint64_t i = 0; i < n; i++) { switch ((i * 7 + r0) & 7) {
      case 0: r0 += 3; break; case 1: r0 ^= i; break; case 2: r0 *= 5; break; case 3: r0 -= i; break;
      case 4: r0 += r0 >> 3; break; case 5: r0 |= 1; break; case 6: r0 <<= 1; break; default: r0 += 12345; } } return r0;`,
  },
  {
    name: 'prime sieve (2048)',
    compute: false,
    size: 2048,
    fill: zeros,
    asm: `
  r1 = 0
clear:
  r2 = r6
  r2 += r1
  r3 = 0
  *(u64 *)(r2 + 0) = r3
  r1 += 8
  if r1 < 2048 goto clear
  r1 = 2
outer:
  r2 = r6
  r2 += r1
  r3 = *(u8 *)(r2 + 0)
  if r3 != 0 goto nexti
  r4 = r1
  r4 *= r1
inner:
  r2 = r6
  r2 += r4
  r3 = 1
  *(u8 *)(r2 + 0) = r3
  r4 += r1
  if r4 < 2048 goto inner
nexti:
  r1 += 1
  if r1 < 46 goto outer
  r0 = 0
  r1 = 2
count:
  r2 = r6
  r2 += r1
  r3 = *(u8 *)(r2 + 0)
  r3 -= 1
  r3 >>= 63
  r0 += r3
  r1 += 1
  if r1 < 2048 goto count
  exit`,
    c: `const uint64_t n = N(46); for (int i = 0; i < 2048; i++) p[i] = 0; for (uint64_t i = 2; i < n; i++) if (!p[i]) for (uint64_t j = i * i; j < 2048; j += i) p[j] = 1;
      uint64_t r0 = 0; for (int i = 2; i < 2048; i++) r0 += !p[i]; return r0;`,
  },
  {
    name: 'strcmp (3 x 1 KB)',
    compute: false,
    size: 2048,
    fill: (p) => {
      for (let i = 0; i < 1023; i++) p[i] = p[1024 + i] = 97 + (i % 26);
      p[1023] = p[2047] = 0;
    },
    asm: `
  r0 = 0
  r5 = 0
rep:
  r1 = 0
cmp:
  r2 = r6
  r2 += r1
  r3 = *(u8 *)(r2 + 0)
  r4 = *(u8 *)(r2 + 1024)
  if r3 != r4 goto differ
  if r3 == 0 goto same
  r1 += 1
  if r1 < 1024 goto cmp
same:
  r0 += r1
  r5 += 1
  if r5 < 3 goto rep
  exit
differ:
  r0 = r3
  r0 -= r4
  exit`,
    c: `const uint64_t n = N(3); uint64_t r0 = 0; for (uint64_t k = 0; k < n; k++) { uint64_t i; for (i = 0; i < 1024; i++) { uint8_t a = p[i], b = p[i + 1024];
      if (a != b) return a - b; if (a == 0) break; } r0 += i; } return r0;`,
  },
  {
    name: 'packet checksum (16 x 1500 B)',
    compute: false,
    size: 1500,
    fill: (p) => {
      for (let i = 0; i < p.length; i++) p[i] = (i * 131 + 7) & 0xff;
    },
    asm: `
  r0 = 0
  r5 = 0
rep:
  r1 = 0
sum:
  r2 = r6
  r2 += r1
  r3 = *(u16 *)(r2 + 0)
  r0 += r3
  r1 += 2
  if r1 < 1500 goto sum
  r5 += 1
  if r5 < 16 goto rep
  r1 = r0
  r1 >>= 16
  r0 &= 0xffff
  r0 += r1
  r1 = r0
  r1 >>= 16
  r0 &= 0xffff
  r0 += r1
  r0 ^= 0xffff
  exit`,
    c: `const uint64_t n = N(16); uint64_t s = 0; for (uint64_t k = 0; k < n; k++) for (int i = 0; i < 1500; i += 2) { uint16_t v; memcpy(&v, p + i, 2); s += v; }
      s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16); return s ^ 0xffff;`,
  },
  {
    // bpf-benchmark's strcmp_full (eunomia-bpf/bpf-benchmark): a bytewise
    // strcmp of two equal strings to their end, here 2 x 512 KiB in a 1 MiB
    // buffer, two pointers stepped as clang compiles `while (*a == *b)`. The
    // kernel cannot run it: XDP test-run data is at most a page, and its
    // verifier wants a bounds check before each step of a packet pointer.
    name: 'strcmp_full (2 x 512 KiB)',
    compute: false,
    size: 1 << 20,
    fill: (p) => {
      const half = p.length >> 1;
      for (let i = 0; i < half - 1; i++) p[i] = p[half + i] = 97 + (i % 26);
      p[half - 1] = p[p.length - 1] = 0;
    },
    asm: `
  r8 = r6
  r9 = r6
  r9 += 524288
cmp:
  r3 = *(u8 *)(r8 + 0)
  r4 = *(u8 *)(r9 + 0)
  if r3 != r4 goto differ
  if r3 == 0 goto same
  r8 += 1
  r9 += 1
  if r9 < r7 goto cmp
same:
  r0 = r8
  r0 -= r6
  exit
differ:
  r0 = r3
  r0 -= r4
  exit`,
    c: `const uint8_t *a = p, *b = p + N(524288), *end = p + (1 << 20); for (; b < end; a++, b++) { if (*a != *b) return *a - *b; if (!*a) break; } return a - p;`,
    cFill: 'for (int i = 0; i < 524287; i++) p[i] = p[524288 + i] = 97 + i % 26; p[524287] = p[1048575] = 0;',
    noKernel: 'test-run data > 1 page',
  },
  {
    name: 'memcpy 1 MB (1024 x 1 KB)',
    compute: false,
    size: 2048,
    fill: (p) => {
      for (let i = 0; i < 1024; i++) p[i] = i & 0xff;
    },
    asm: `
  r5 = 0
rep:
  r1 = 0
copy:
  r2 = r6
  r2 += r1
  r3 = *(u64 *)(r2 + 0)
  *(u64 *)(r2 + 1024) = r3
  r1 += 8
  if r1 < 1024 goto copy
  r5 += 1
  if r5 < 1024 goto rep
  r0 = *(u64 *)(r6 + 2040)
  exit`,
    c: `const uint64_t n = N(1024); for (uint64_t k = 0; k < n; k++) { memcpy(p + 1024, p, 1024); __asm__ volatile("" ::: "memory"); } uint64_t r; memcpy(&r, p + 2040, 8); return r;`,
  },
];

export const sourceOf = (p: BenchProg): string => `${PROLOGUE(p.size)}${p.asm}\n${EPILOGUE}`;
/** The same program for uBPF (r1 = data, r2 = length). */
const ubpfSourceOf = (p: BenchProg): string => `${UBPF_PROLOGUE(p.size)}${p.asm}\n${EPILOGUE}`;

interface Row {
  name: string;
  insns: number;
  interp?: number;
  jit: number;
  /** per pass of the module's WebAssembly `repeat` loop (Executable.runRepeat): the kernel's test-run loop, no JS call per run */
  jitRepeat?: number;
  /** the same, each batch run right after one of the kernel's (runKernel's `between`): the like-for-like pair */
  jitRepeatPaired?: number;
  prepareNs: number;
  gcc?: number;
  kernel?: number | string;
  ubpfInterp?: number | string;
  ubpfJit?: number | string;
  result: bigint;
}

/** CPU time of this process in nanoseconds (time spent descheduled on a shared machine does not count). */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** Minimum over `batches` of the mean CPU time of one call within a batch sized to ~`budgetMs`. */
function timeIt(fn: () => void, batches = 7, budgetMs = 20): number {
  for (let i = 0; i < 3; i++) fn(); // warm up (and let V8 tier the code up)
  let n = 1;
  for (;;) {
    const t0 = cpuNs();
    for (let i = 0; i < n; i++) fn();
    const dt = cpuNs() - t0;
    if (dt > (budgetMs * 1e6) / 4 || n > 1 << 22) break;
    n *= 2;
  }
  n = Math.max(1, n * 4);
  let best = Infinity;
  for (let b = 0; b < batches; b++) {
    const t0 = cpuNs();
    for (let i = 0; i < n; i++) fn();
    best = Math.min(best, (cpuNs() - t0) / n);
  }
  return best;
}

/** The C harness: each algorithm as a noinline function; loop bounds through a volatile so gcc cannot fold them. */
function runGcc(dir: string, progs: BenchProg[]): Map<string, { ns: number; result: bigint }> | string {
  if (!which('gcc')) return 'gcc not found';
  const fns = progs
    .map(
      (p, i) => `__attribute__((noinline)) static uint64_t f${i}(uint8_t *p) { ${p.c} }`,
    )
    .join('\n');
  const fills = progs.map((p, i) => {
    if (p.cFill) return `static uint8_t pkt${i}[${p.size}];`;
    const buf = new Uint8Array(p.size);
    p.fill(buf);
    return `static uint8_t pkt${i}[${Math.max(p.size, 2048)}] = {${Array.from(buf).join(',')}};`;
  });
  const runs = progs
    .map(
      (p, i) => `  { double best = 1e30; uint64_t r = 0; long n = 1;${p.cFill ? ` { uint8_t *p = pkt${i}; ${p.cFill} }` : ''}
    for (;;) { double t0 = now(); for (long k = 0; k < n; k++) r = f${i}(pkt${i}); if (now() - t0 > 5e6 || n > (1L << 24)) break; n *= 2; }
    for (int b = 0; b < 7; b++) { double t0 = now(); for (long k = 0; k < n; k++) r = f${i}(pkt${i}); double t = (now() - t0) / n; if (t < best) best = t; }
    printf("%d %.3f %llu\\n", ${i}, best, (unsigned long long)r); }`,
    )
    .join('\n');
  const src = `#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
static volatile uint64_t bound;
static uint64_t N(uint64_t x) { bound = x; return bound; }
static double now(void) { struct timespec ts; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); return ts.tv_sec * 1e9 + ts.tv_nsec; }
${fills.join('\n')}
${fns}
int main(void) {
${runs}
  return 0;
}
`;
  writeFileSync(join(dir, 'bench.c'), src);
  try {
    execFileSync('gcc', ['-O2', '-o', join(dir, 'bench'), join(dir, 'bench.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const out = execFileSync(join(dir, 'bench'), { encoding: 'utf8' });
    const res = new Map<string, { ns: number; result: bigint }>();
    for (const line of out.trim().split('\n')) {
      const [i, ns, r] = line.split(' ');
      res.set(progs[Number(i)]!.name, { ns: Number(ns), result: BigInt(r!) });
    }
    return res;
  } catch (e) {
    return `gcc harness failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** The program as an LLVM assembly file for `clang-19 -target bpf -c`: one XDP function `fn`. */
export function kernelAsm(p: BenchProg, fn: string): string {
  const body = sourceOf(p)
    .split('\n')
    .map((l) => (l.trim() === '' ? '' : /^\w+:$/.test(l.trim()) ? l.trim() : `\t${l.trim()}`))
    .join('\n');
  return `\t.text\n\t.section\txdp,"ax",@progbits\n\t.globl\t${fn}\n\t.p2align\t3\n\t.type\t${fn},@function\n${fn}:\n${body}\n.Lend:\n\t.size\t${fn}, .Lend-${fn}\n\t.section\tlicense,"aw",@progbits\n\t.ascii\t"GPL"\n\t.byte\t0\n`;
}

/**
 * The kernel's JIT: the same assembly through clang-19 and bpftool. `between(repeat)`, when
 * given, runs after each of the kernel's batches, so a batch of the JIT's can be timed at the
 * same moment (the machine's speed moves between runs even when idle).
 */
function runKernel(dir: string, p: BenchProg, i: number, between?: (repeat: number) => void): { ns: number; retval: number } | string {
  const fn = `bench${i}`;
  const s = kernelAsm(p, fn);
  const asmFile = join(dir, `${fn}.s`);
  const obj = join(dir, `${fn}.o`);
  const pkt = join(dir, `${fn}.pkt`);
  const pin = `/sys/fs/bpf/tsbpf_bench_${process.pid}_${i}`;
  writeFileSync(asmFile, s);
  const buf = new Uint8Array(p.size);
  p.fill(buf);
  writeFileSync(pkt, buf);
  try {
    execFileSync('clang-19', ['-target', 'bpf', '-c', asmFile, '-o', obj], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('bpftool', ['prog', 'load', obj, pin], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const msg = ((e as { stderr?: Buffer }).stderr?.toString() ?? String(e)).split('\n').filter((l) => /\w/.test(l) && !/^(libbpf|Error):/.test(l));
    return `rejected: ${msg.slice(-1)[0] ?? ''}`.slice(0, 48);
  }
  try {
    let best = Infinity;
    let retval = 0;
    // Calibrate so one bpftool run takes ~20 ms of program time.
    const probe = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'run', 'pinned', pin, 'data_in', pkt, 'repeat', '10'], { encoding: 'utf8' })) as { retval: number; duration: number };
    const repeat = Math.max(10, Math.min(1_000_000, Math.round(20e6 / Math.max(1, probe.duration))));
    for (let b = 0; b < 7; b++) {
      const r = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'run', 'pinned', pin, 'data_in', pkt, 'repeat', String(repeat)], { encoding: 'utf8' })) as { retval: number; duration: number };
      best = Math.min(best, r.duration);
      retval = r.retval;
      between?.(repeat);
    }
    return { ns: best, retval };
  } finally {
    rmSync(pin, { force: true });
  }
}

export function kernelAvailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!which('bpftool')) return 'bpftool not found';
  if (!which('clang-19')) return 'clang-19 not found';
  if (!existsSync('/sys/fs/bpf')) return 'no /sys/fs/bpf';
  try {
    execFileSync('sh', ['-c', 'mount | grep -q " /sys/fs/bpf " || mount -t bpf bpf /sys/fs/bpf'], { stdio: 'ignore' });
  } catch {
    return 'cannot mount bpffs';
  }
  return undefined;
}

const fmt = (ns: number | undefined): string =>
  ns === undefined ? '-' : ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(1)} us` : `${ns.toFixed(0)} ns`;
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`);

/** A synthetic program of ~4000 instructions (branch diamonds, loads, ALU) for compile time. */
export function bigProgram(target = 4000): Insn[] {
  const lines = ['r0 = 0', 'r2 = 0', '*(u64 *)(r10 - 8) = r2'];
  let k = 0;
  while (lines.length < target * 1.3) {
    lines.push(`if r1 > ${k} goto t${k}`, 'r0 += r1', 'r2 ^= r0', 'r0 = *(u64 *)(r10 - 8)', `goto j${k}`, `t${k}:`, 'r0 *= 3', 'w2 += 7', `j${k}:`);
    k++;
  }
  lines.push('exit');
  return assemble(lines.join('\n'));
}

export async function main(): Promise<void> {
  const space = new AddressSpace({ initialPages: 64 });
  const helpers = new HelperRegistry();
  const jit = new JitEngine();
  const interp = new Interpreter();
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-jit-bench-'));
  const rows: Row[] = [];
  const noKernel = kernelAvailable();
  const quick = process.env['TSBPF_BENCH_QUICK'] === '1';
  const load0 = loadavg()[0]!;
  const ubpf = quick ? 'skipped (quick)' : ubpfRunner(dir);
  try {
    for (const [i, p] of PROGRAMS.entries()) {
      const insns = assemble(sourceOf(p));
      const pkt = space.alloc(Math.max(p.size, 8));
      const ctx = space.alloc(8);
      const fill = (): void => {
        const b = new Uint8Array(p.size);
        p.fill(b);
        space.write(pkt, b);
        space.writeU32(ctx, pkt);
        space.writeU32(ctx + 4, pkt + p.size);
      };
      fill();
      const image = { name: p.name, insns, helpers, space, verified: true };
      // Prepare (compile + instantiate) CPU time: median of 5, after one to warm the compiler's own JS.
      const prepTimes: number[] = [];
      for (let k = 0; k < 6; k++) {
        const t0 = cpuNs();
        const e = jit.prepare(image) as JitExecutable;
        if (k > 0) prepTimes.push(cpuNs() - t0);
        e.close();
      }
      prepTimes.sort((a, b) => a - b);
      const compileNs = prepTimes[prepTimes.length >> 1]!;
      const exe = jit.prepare(image) as JitExecutable;
      const args = { args: [BigInt(ctx)] };
      const result = exe.run(args);
      fill();
      const iexe: Executable = interp.prepare(image);
      const iresult = iexe.run(args);
      if (iresult !== result) throw new Error(`${p.name}: interpreter ${iresult} != JIT ${result}`);
      const row: Row = { name: p.name, insns: insns.length, jit: 0, prepareNs: compileNs, result };
      row.jit = timeIt(() => exe.run(args), quick ? 3 : 7);
      // The kernel column is bpf_test_run's in-kernel loop: the like-for-like figure is the
      // JIT's own test-run loop in WebAssembly, 64 passes per call from JS.
      if (exe.runRepeat(ctx, 0, undefined, 1) !== undefined) row.jitRepeat = timeIt(() => exe.runRepeat(ctx, 0, undefined, 64), quick ? 3 : 7) / 64;
      row.interp = timeIt(() => iexe.run(args), 3, quick ? 20 : 100);
      if (typeof ubpf !== 'string') {
        const b = new Uint8Array(p.size);
        p.fill(b);
        const uinsns = assemble(ubpfSourceOf(p));
        const want = result & 0xffffffffffffffffn;
        const u = (mode: 'interp' | 'jit'): number | string => {
          const r = ubpf.run(uinsns, b, mode, mode === 'jit' ? 20 : 100, mode === 'jit' ? 7 : 3);
          return typeof r === 'string' ? r : r.r0 === want ? r.ns : `r0 ${r.r0} != ${want}`;
        };
        row.ubpfInterp = u('interp');
        row.ubpfJit = u('jit');
      }
      if (p.noKernel) row.kernel = p.noKernel;
      else if (noKernel === undefined && !quick) {
        // A pass of the JIT's repeat loop after each kernel batch, as many runs: minima of interleaved batches.
        const paired = row.jitRepeat === undefined ? undefined : (n: number): void => {
          const t0 = cpuNs();
          exe.runRepeat(ctx, 0, undefined, n);
          row.jitRepeatPaired = Math.min(row.jitRepeatPaired ?? Infinity, (cpuNs() - t0) / n);
        };
        const k = runKernel(dir, p, i, paired);
        if (typeof k === 'string') row.kernel = k;
        else {
          row.kernel = k.ns;
          if (k.retval !== Number(result & 0xffffffffn)) row.kernel = `retval ${k.retval} != ${result & 0xffffffffn}`;
        }
      }
      exe.close();
      space.free(pkt);
      space.free(ctx);
      rows.push(row);
    }
    const gcc = quick ? 'skipped (quick)' : runGcc(dir, PROGRAMS);
    if (typeof gcc !== 'string') {
      for (const r of rows) {
        const g = gcc.get(r.name);
        if (!g) continue;
        r.gcc = g.ns;
        if (g.result !== r.result) r.name += ` (gcc result ${g.result} != ${r.result}!)`;
      }
    }
    const header = ['program', 'insns', 'interpreter', 'uBPF interp', 'JIT', 'JIT repeat', 'kernel JIT', 'uBPF JIT', 'gcc -O2', 'JIT/kernel', 'JIT repeat/kernel', 'paired/kernel', 'JIT/uBPF JIT', 'JIT/gcc', 'interp/uBPF interp', 'prepare'];
    const num = (v: number | string | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
    const cell = (v: number | string | undefined): string => (typeof v === 'string' ? v : fmt(v));
    const table = rows.map((r) => [
      `${r.name}${PROGRAMS.find((p) => r.name.startsWith(p.name))?.compute ? ' *' : ''}`,
      String(r.insns),
      fmt(r.interp),
      cell(r.ubpfInterp),
      fmt(r.jit),
      fmt(r.jitRepeat),
      cell(r.kernel),
      cell(r.ubpfJit),
      fmt(r.gcc),
      ratio(r.jit, num(r.kernel)),
      ratio(r.jitRepeat, num(r.kernel)),
      ratio(r.jitRepeatPaired, num(r.kernel)),
      ratio(r.jit, num(r.ubpfJit)),
      ratio(r.jit, r.gcc),
      ratio(r.interp, num(r.ubpfInterp)),
      fmt(r.prepareNs),
    ]);
    const widths = header.map((h, c) => Math.max(h.length, ...table.map((t) => t[c]!.length)));
    const line = (cells: string[]): string => cells.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join('  ');
    console.log('\n## JIT (eBPF -> WebAssembly): time per program run (min of batches); * = compute-bound');
    console.log(line(header));
    for (const t of table) console.log(line(t));
    console.log('paired/kernel: a batch of the JIT repeat loop right after each of the kernel\'s 7 (as many runs), minimum over those batches, CPU time, against the kernel\'s minimum');
    if (noKernel) console.log(`kernel JIT: skipped (${noKernel})`);
    if (typeof ubpf === 'string') console.log(`uBPF: skipped (${ubpf})`);
    console.log(`load average ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (2 cores: above 1-2 the machine is shared)`);
    if (typeof gcc === 'string') console.log(`gcc: ${gcc}`);

    // Compile time of a large program.
    const big = bigProgram(4000);
    const img = { name: 'big', insns: big, helpers, space, verified: true };
    const times: number[] = [];
    const wall: number[] = [];
    let first = 0;
    for (let k = 0; k < 41; k++) {
      const t0 = cpuNs();
      const w0 = performance.now();
      const e = jit.prepare(img) as JitExecutable;
      const dt = cpuNs() - t0;
      if (k === 0) first = dt;
      else {
        times.push(dt);
        wall.push((performance.now() - w0) * 1e6);
      }
      e.close();
    }
    times.sort((a, b) => a - b);
    wall.sort((a, b) => a - b);
    const med = times[times.length >> 1]!;
    const p25 = times[times.length >> 2]!;
    const ms = (ns: number): string => `${(ns / 1e6).toFixed(2)} ms`;
    // Process CPU time includes V8's background threads (GC, tier-up of other code): min and p25 are the cleanest.
    console.log(
      `\ncompile (prepare = validate, CFG, structure, encode, WebAssembly.Module + Instance) of ${big.length} insns; goal < 5 ms\n` +
        `  CPU time: min ${ms(times[0]!)} (${(times[0]! / big.length).toFixed(0)} ns/insn), p25 ${ms(p25)}, median ${ms(med)}; ` +
        `wall: min ${ms(wall[0]!)}, median ${ms(wall[wall.length >> 1]!)}; first compile of this program ${ms(first)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

