/**
 * `npm run bench -- ringbuf`: events per second from a program to a host
 * consumer, through a BPF ring buffer (bpf_ringbuf_output) and a perf event
 * array (bpf_perf_event_output), tsbpf against the Linux kernel on the same
 * object in the same run.
 *
 * The program (built here with clang-19) writes 16 records of 16 bytes per
 * run. A batch is a BPF_PROG_TEST_RUN with `repeat` runs, then one consume
 * of everything the batch produced: tsbpf's `program.run({ repeat })` and
 * `RingBufReader.consumeInPlace` / `PerfEventArray.read`; the kernel's
 * bpf_prog_test_run_opts and libbpf's ring_buffer__consume /
 * perf_buffer__consume, in a small C program built here against libbpf
 * (root, clang-19, gcc and libbpf-dev needed; the kernel column says why it
 * is missing otherwise). Both sides time the same loop of batches and their
 * callbacks read every record's first 8 bytes; rates are per second of wall
 * time and of the process's CPU time (steadier on a busy machine; for
 * tsbpf it includes V8's compiler and GC threads). The two sides alternate for
 * several rounds and each prints its median; the load average is printed
 * beside the figures, since the ratio is what a shared machine keeps.
 * A second program reserves, fills and submits its 16 records
 * (bpf_ringbuf_reserve / bpf_ringbuf_submit, what most tools use). The ring
 * buffer rows are also run with the helpers' JS producer (the helpers
 * without their WebAssembly forms, as before ringbuf-wasm.ts and
 * ringbuf-reserve-wasm.ts) in the same rounds, for an A/B in one process.
 */
import { execFileSync } from 'node:child_process';
import { which } from '../test/support/tools.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObjectFile } from '../src/object/file.js';
import { Runtime } from '../src/runtime/index.js';
import { RingBufReader } from '../src/maps/ringbuf-reader.js';
import { defaultHelpers } from '../src/helpers/index.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import type { RingBuf } from '../src/maps/ringbuf.js';
import type { PerfEventArray } from '../src/maps/perf-event-array.js';

// Debian's multiarch headers (asm/types.h, which linux/bpf.h includes).
const MULTIARCH = `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
const PER_RUN = 16;
const REPEAT = 1024; // runs per batch: 16 Ki records, 384 KiB of ring buffer, 512 KiB of perf buffer
const BATCHES = 40;
const ROUNDS = 5;

const PROG_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 20); } rb SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); __uint(max_entries, 64); } pe SEC(".maps");
SEC("xdp") int ring_out(struct xdp_md *ctx)
{
	__u64 ev[2] = { 0, 42 };
#pragma unroll
	for (int i = 0; i < ${PER_RUN}; i++) {
		ev[0] = i;
		bpf_ringbuf_output(&rb, ev, sizeof(ev), 0);
	}
	return XDP_PASS;
}
SEC("xdp") int ring_reserve(struct xdp_md *ctx)
{
#pragma unroll
	for (int i = 0; i < ${PER_RUN}; i++) {
		__u64 *ev = bpf_ringbuf_reserve(&rb, 16, 0);
		if (!ev)
			continue;
		ev[0] = i;
		ev[1] = 42;
		bpf_ringbuf_submit(ev, 0);
	}
	return XDP_PASS;
}
SEC("xdp") int perf_out(struct xdp_md *ctx)
{
	__u64 ev[2] = { 0, 42 };
#pragma unroll
	for (int i = 0; i < ${PER_RUN}; i++) {
		ev[0] = i;
		bpf_perf_event_output(ctx, &pe, BPF_F_CURRENT_CPU, ev, sizeof(ev));
	}
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** The kernel side: test-run batches and libbpf's consumers, events/s on stdout. */
const HARNESS_C = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
static unsigned long long seen, sum;
static int on_ring(void *ctx, void *data, size_t len) { seen++; sum += *(unsigned long long *)data; return 0; }
static void on_perf(void *ctx, int cpu, void *data, unsigned int len) { seen++; sum += *(unsigned long long *)data; }
static double clk(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
	const char *mode = argv[2];
	int repeat = atoi(argv[3]), batches = atoi(argv[4]);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) { fprintf(stderr, "load failed\\n"); return 1; }
	int ring = strcmp(mode, "perf") != 0;
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, !strcmp(mode, "reserve") ? "ring_reserve" : ring ? "ring_out" : "perf_out");
	struct ring_buffer *rb = NULL; struct perf_buffer *pb = NULL;
	if (ring) rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "rb"), on_ring, NULL, NULL);
	else pb = perf_buffer__new(bpf_object__find_map_fd_by_name(obj, "pe"), 256, on_perf, NULL, NULL, NULL);
	if (!rb && !pb) { fprintf(stderr, "buffer failed\\n"); return 1; }
	unsigned char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = repeat);
	for (int warm = 0; warm < 2; warm++) {
		bpf_prog_test_run_opts(bpf_program__fd(prog), &o);
		if (ring) ring_buffer__consume(rb); else perf_buffer__consume(pb);
	}
	seen = 0;
	double t0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
	for (int b = 0; b < batches; b++) {
		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o)) { fprintf(stderr, "test run failed\\n"); return 1; }
		if (ring) ring_buffer__consume(rb); else perf_buffer__consume(pb);
	}
	double t = clk(CLOCK_MONOTONIC) - t0, c = clk(CLOCK_PROCESS_CPUTIME_ID) - c0;
	printf("%llu %.0f %.0f %llu\\n", seen, seen / t, seen / c, sum);
	return 0;
}
`;

/** Build the object, and the kernel harness where it can run; the reason when it cannot. */
function build(dir: string): { obj: string; harness: string | undefined; why: string } {
  const src = join(dir, 'prog.c');
  const obj = join(dir, 'prog.o');
  writeFileSync(src, PROG_C);
  execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', MULTIARCH, '-c', src, '-o', obj], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (process.getuid?.() !== 0) return { obj, harness: undefined, why: 'not root' };
  if (!which('gcc')) return { obj, harness: undefined, why: 'gcc not found' };
  const hsrc = join(dir, 'harness.c');
  const harness = join(dir, 'harness');
  writeFileSync(hsrc, HARNESS_C);
  try {
    execFileSync('gcc', ['-O2', '-o', harness, hsrc, '-lbpf'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    return { obj, harness: undefined, why: `libbpf harness did not build (libbpf-dev?): ${(e as Error).message.split('\n')[0]}` };
  }
  return { obj, harness, why: '' };
}

/** Events per second of wall time and of the process's CPU time (the steadier figure on a busy machine). */
interface Rate {
  wall: number;
  cpu: number;
}

/** ring: bpf_ringbuf_output; reserve: bpf_ringbuf_reserve + submit; perf: bpf_perf_event_output */
type Mode = 'ring' | 'reserve' | 'perf';

function kernelRate(harness: string, obj: string, mode: Mode): Rate {
  const out = execFileSync(harness, [obj, mode, String(REPEAT), String(BATCHES)], { encoding: 'utf8' });
  const [seen, wall, cpu] = out.trim().split(' ').map(Number);
  if (seen !== PER_RUN * REPEAT * BATCHES) throw new Error(`kernel consumer saw ${seen} records, expected ${PER_RUN * REPEAT * BATCHES}`);
  return { wall: wall!, cpu: cpu! };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};
const fmt = (x: number | undefined): string => (x === undefined ? '-' : `${(x / 1e6).toFixed(2)} M`);

export async function main(): Promise<void> {
  if (!which('clang-19')) {
    console.log('\n## ringbuf: skipped (clang-19 not found)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-ringbuf-'));
  try {
    const { obj, harness, why } = build(dir);
    const spec = await loadObjectFile(obj);
    let sum = 0;
    const onRecord = (b: Uint8Array, off: number): void => {
      sum += b[off]!;
    };
    const data = new Uint8Array(64);
    /** One runtime's side: the program, its reader and buffers, and a timed loop of batches. */
    const side = async (helpers?: HelperRegistry): Promise<{ rate: (mode: Mode) => Rate; close: () => void }> => {
      const rt = new Runtime({ engine: 'jit', ...(helpers ? { helpers } : {}) });
      const c = await rt.load(spec);
      const reader = new RingBufReader(c.map('rb') as unknown as RingBuf);
      const pe = c.map('pe') as unknown as PerfEventArray;
      pe.openAll(1 << 20);
      const rate = (mode: Mode): Rate => {
        const p = c.program(mode === 'ring' ? 'ring_out' : mode === 'reserve' ? 'ring_reserve' : 'perf_out');
        let seen = 0;
        const batch = (): void => {
          p.run({ data, repeat: REPEAT });
          // (consume, the copying reader, where the build predates consumeInPlace: for before/after figures)
          if (mode !== 'perf') seen += reader.consumeInPlace ? reader.consumeInPlace(onRecord) : reader.consume((r) => onRecord(r, 0));
          else for (const r of pe.read().records) (seen++, (sum += r.data[0]!));
        };
        batch();
        batch();
        seen = 0;
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        for (let b = 0; b < BATCHES; b++) batch();
        const t = (performance.now() - t0) / 1e3;
        const cu = process.cpuUsage(c0);
        // CPU time of every thread of the process (V8's compiler and GC threads included): pessimistic for tsbpf.
        const cpu = (cu.user + cu.system) / 1e6;
        if (seen !== PER_RUN * REPEAT * BATCHES) throw new Error(`tsbpf consumer saw ${seen} records, expected ${PER_RUN * REPEAT * BATCHES}`);
        return { wall: seen / t, cpu: seen / cpu };
      };
      return { rate, close: () => (reader.close(), rt.close()) };
    };
    const wasm = await side();
    // The A/B baseline: the same helpers without their WebAssembly forms (the JS producer).
    const jsOnly = await side(new HelperRegistry([...defaultHelpers()].map(({ wasm32: _w, ...def }) => def)));
    const tsbpf = wasm.rate;
    console.log(`\n## ringbuf: events/s, program to host consumer (${PER_RUN} x 16-byte records per run, ${REPEAT} runs per batch, consume after each batch; median of ${ROUNDS} interleaved rounds; higher is better)\n`);
    console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    console.log('| buffer | tsbpf (JIT), wall | kernel + libbpf, wall | tsbpf / kernel, wall | tsbpf, CPU time | kernel, CPU time | tsbpf / kernel, CPU |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const mode of ['ring', 'reserve', 'perf'] as const) {
      const jsRows: Rate[] = [];
      const ours: Rate[] = [];
      const theirs: Rate[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        if (harness) theirs.push(kernelRate(harness, obj, mode));
        ours.push(tsbpf(mode));
        if (mode !== 'perf') jsRows.push(jsOnly.rate(mode));
      }
      const cells: string[] = [];
      for (const clock of ['wall', 'cpu'] as const) {
        const o = median(ours.map((x) => x[clock]));
        const k = harness ? median(theirs.map((x) => x[clock])) : undefined;
        cells.push(fmt(o), k === undefined ? `(${why})` : fmt(k), k === undefined ? '-' : `${(o / k).toFixed(2)}x`);
      }
      const label = {
        ring: 'ring buffer (bpf_ringbuf_output, ring_buffer__consume)',
        reserve: 'ring buffer (bpf_ringbuf_reserve + submit, ring_buffer__consume)',
        perf: 'perf buffer (bpf_perf_event_output, perf_buffer__consume)',
      }[mode];
      console.log(`| ${label} | ${cells.join(' | ')} |`);
      if (mode !== 'perf') {
        const js = (clock: 'wall' | 'cpu'): number => median(jsRows.map((x) => x[clock]));
        const k = (clock: 'wall' | 'cpu'): number | undefined => (harness ? median(theirs.map((x) => x[clock])) : undefined);
        const ratio = (clock: 'wall' | 'cpu'): string => (harness ? `${(js(clock) / k(clock)!).toFixed(2)}x` : '-');
        console.log(`| ${mode === 'ring' ? 'bpf_ringbuf_output' : 'reserve + submit'}, JS producer (A/B baseline: helpers without WebAssembly forms) | ${fmt(js('wall'))} | ${fmt(k('wall'))} | ${ratio('wall')} | ${fmt(js('cpu'))} | ${fmt(k('cpu'))} | ${ratio('cpu')} |`);
      }
    }
    console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    wasm.close();
    jsOnly.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
