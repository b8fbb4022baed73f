/**
 * `npm run bench -- hashmap`: hash map operations inside a program, tsbpf's
 * JIT against the Linux kernel in the same run. One XDP object (C, built
 * here with clang-19) holds a BPF_MAP_TYPE_HASH (u32 key, u64 value,
 * max_entries 1024) and three programs: `fill` puts keys 0..255 in, `lookup256`
 * looks each of them up once per run (the key copied to the stack from the
 * loop counter, which stays in a register, as the verifiers need to bound the loop), `update_lookup256` updates and then
 * looks up each of them once per run. tsbpf runs the object with
 * `program.run({ repeat })`, the kernel with `bpftool prog run ... repeat N`
 * (BPF_PROG_TEST_RUN); both report the average time per run inside the repeat
 * loop. The two sides alternate for 5 rounds and the best round of each
 * counts (the machine is shared: the least disturbed round is the fairest).
 * Wall time is each side's own timer; on a loaded machine the CPU time (of
 * this process, and of the bpftool process for the kernel) is the steadier
 * figure. The load average at the start and the end is printed with the table.
 * In the same rounds, a second runtime whose JIT inlines no helper (every
 * lookup a call to the generic WebAssembly probe, helpers/hash-probe.ts) is
 * the A/B baseline for the inlined lookup (vm/jit/inline-hash.ts). The same
 * two programs run on a BPF_MAP_TYPE_LRU_HASH too (`lru_*`): the lookups'
 * A/B baseline is again the generic probe, the updates' a runtime with the
 * helpers' JS forms (no WebAssembly probe); and on a BPF_MAP_TYPE_PERCPU_HASH
 * (`pcpu_*`, the kernel's side pinned to CPU 0 where its fill ran), whose
 * baseline without inliners is the JS map operations (the probe takes
 * per-CPU calls only when the JIT told it the CPU: inline-percpu-hash.ts).
 * A BPF_MAP_TYPE_LPM_TRIE shaped like a routing table (a /8, 256 /16s and
 * 256 /24s) takes 256 /32 lookups per run (`lpm_lookup256`) and 256 x (a /24
 * update + a /32 lookup) (`lpm_update_lookup256`); their A/B baseline is the
 * JS trie (helpers without WebAssembly forms: no helpers/lpm-probe.ts walk).
 * TSBPF_HASHMAP_ROWS=lpm (a prefix of the program names) runs only those rows.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObjectFile } from '../src/object/file.js';
import { Runtime } from '../src/runtime/index.js';
import { JitEngine } from '../src/vm/jit/index.js';
import { defaultHelpers } from '../src/helpers/index.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import { which } from '../test/support/tools.js';

const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} h SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} pch SEC(".maps");

/* The same three programs over each map: fill it with keys 0..255, then 256 lookups, or 256
 * updates each followed by a lookup (the sums check every value was found). */
#define OPS(MAP, FILL, LOOKUP, UPDATE_LOOKUP)					\\
SEC("xdp") int FILL(struct xdp_md *ctx)						\\
{										\\
	for (__u32 i = 0; i < 256; i++) {					\\
		__u32 k = i;							\\
		__u64 v = i;							\\
		bpf_map_update_elem(&MAP, &k, &v, BPF_ANY);			\\
	}									\\
	return XDP_PASS;							\\
}										\\
SEC("xdp") int LOOKUP(struct xdp_md *ctx)					\\
{										\\
	__u64 sum = 0;								\\
	for (__u32 i = 0; i < 256; i++) {					\\
		__u32 k = i;							\\
		__u64 *v = bpf_map_lookup_elem(&MAP, &k);			\\
		if (v)								\\
			sum += *v;						\\
	}									\\
	return sum == 255 * 128 ? XDP_PASS : XDP_DROP;				\\
}										\\
SEC("xdp") int UPDATE_LOOKUP(struct xdp_md *ctx)				\\
{										\\
	__u64 sum = 0;								\\
	for (__u32 i = 0; i < 256; i++) {					\\
		__u32 k = i;							\\
		__u64 v = i;							\\
		bpf_map_update_elem(&MAP, &k, &v, BPF_ANY);			\\
		__u64 *p = bpf_map_lookup_elem(&MAP, &k);			\\
		if (p)								\\
			sum += *p;						\\
	}									\\
	return sum == 255 * 128 ? XDP_PASS : XDP_DROP;				\\
}

/* An LPM trie shaped like a routing table: 10.0.0.0/8, 10.i.0.0/16 and 10.i.i.0/24 for i < 256
 * (513 prefixes); the lookups are /32 addresses 10.i.i.7, each matching its /24 (value i). */
struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct lpm_key);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lpm SEC(".maps");

SEC("xdp") int fill_lpm(struct xdp_md *ctx)
{
	struct lpm_key k = { 8, bpf_htonl(0x0a000000) };
	__u64 v = 1000;
	bpf_map_update_elem(&lpm, &k, &v, BPF_ANY);
	for (__u32 i = 0; i < 256; i++) {
		struct lpm_key k16 = { 16, bpf_htonl(0x0a000000 | (i << 16)) };
		struct lpm_key k24 = { 24, bpf_htonl(0x0a000000 | (i << 16) | (i << 8)) };
		__u64 v16 = 1000 + i;
		__u64 v24 = i;
		bpf_map_update_elem(&lpm, &k16, &v16, BPF_ANY);
		bpf_map_update_elem(&lpm, &k24, &v24, BPF_ANY);
	}
	return XDP_PASS;
}
SEC("xdp") int lpm_lookup256(struct xdp_md *ctx)
{
	__u64 sum = 0;
	for (__u32 i = 0; i < 256; i++) {
		struct lpm_key k = { 32, bpf_htonl(0x0a000007 | (i << 16) | (i << 8)) };
		__u64 *v = bpf_map_lookup_elem(&lpm, &k);
		if (v)
			sum += *v;
	}
	return sum == 255 * 128 ? XDP_PASS : XDP_DROP;
}
SEC("xdp") int lpm_update_lookup256(struct xdp_md *ctx)
{
	__u64 sum = 0;
	for (__u32 i = 0; i < 256; i++) {
		struct lpm_key k24 = { 24, bpf_htonl(0x0a000000 | (i << 16) | (i << 8)) };
		struct lpm_key k = { 32, bpf_htonl(0x0a000007 | (i << 16) | (i << 8)) };
		__u64 v = i;
		bpf_map_update_elem(&lpm, &k24, &v, BPF_ANY);
		__u64 *p = bpf_map_lookup_elem(&lpm, &k);
		if (p)
			sum += *p;
	}
	return sum == 255 * 128 ? XDP_PASS : XDP_DROP;
}

OPS(h, fill, lookup256, update_lookup256)
OPS(lru, fill_lru, lru_lookup256, lru_update_lookup256)
OPS(pch, fill_pcpu, pcpu_lookup256, pcpu_update_lookup256)

char LICENSE[] SEC("license") = "GPL";
`;

/** name, what it does, and the A/B baseline run beside it in the same rounds */
const PROGRAMS = [
  ['lookup256', '256 hash lookups per run (u32 key)', 'noInline'],
  ['update_lookup256', '256 x (hash update + lookup) per run', 'noInline'],
  ['lru_lookup256', '256 LRU hash lookups per run (u32 key)', 'noInline'],
  ['lru_update_lookup256', '256 x (LRU hash update + lookup) per run', 'jsOps'],
  ['pcpu_lookup256', '256 per-CPU hash lookups per run (u32 key)', 'noInline'],
  ['pcpu_update_lookup256', '256 x (per-CPU hash update + lookup) per run', 'noInline'],
  ['lpm_lookup256', '256 LPM trie lookups per run (/32 among 513 prefixes)', 'jsOps'],
  ['lpm_update_lookup256', '256 x (LPM trie update of a /24 + /32 lookup) per run', 'jsOps'],
] as const;
const BASELINE = {
  noInline: 'no inliners (the generic WebAssembly probe; per-CPU maps: JS, the probe not told the CPU)',
  jsOps: 'JS map operations (helpers without WebAssembly forms)',
} as const;
const XDP_PASS = 2;

/** One side's best round: ns per run of wall time (the test run's own timer) and of CPU time. */
interface Best {
  wall: number;
  cpu: number;
}

interface Kernel {
  /** the kernel's duration per run, and the CPU time per run of the bpftool process (user + system) */
  run(prog: string, repeat: number): { ns: number; cpuNs: number; retval: number };
  close(): void;
}

function kernel(obj: string, pkt: string): Kernel | string {
  if (process.getuid?.() !== 0) return 'not root';
  if (!which('bpftool')) return 'bpftool not found';
  const pin = `/sys/fs/bpf/tsbpf-bench-hash-${process.pid}`;
  try {
    execFileSync('bpftool', ['prog', 'loadall', obj, pin], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    return `bpftool prog loadall failed: ${(e as Error).message.split('\n')[0]}`;
  }
  const run = (prog: string, repeat: number): { ns: number; cpuNs: number; retval: number } => {
    // bash's time gives the process's CPU seconds; its start-up is a few ms against a run of a second or so.
    // On CPU 0, where the fill ran: a per-CPU map's lookups find the values written on their own CPU.
    const cmd = `TIMEFORMAT='%3U %3S'; { time taskset -c 0 bpftool -j prog run pinned ${join(pin, prog)} data_in ${pkt} repeat ${repeat} ; } 2>&1`;
    const out = execFileSync('bash', ['-c', cmd], { encoding: 'utf8' }).trim().split('\n');
    const [u, sys] = out.pop()!.split(' ').map(Number);
    const r = JSON.parse(out.join('\n')) as { duration: number; retval: number };
    return { ns: r.duration, cpuNs: ((u! + sys!) * 1e9) / repeat, retval: r.retval };
  };
  run('fill', 1);
  run('fill_lru', 1);
  run('fill_pcpu', 1);
  run('fill_lpm', 1);
  return { run, close: () => rmSync(pin, { recursive: true, force: true }) };
}

export async function main(): Promise<void> {
  console.log('\n## hashmap: hash map operations inside a program, JIT vs the Linux kernel (lower is better)\n');
  if (!which('clang-19')) {
    console.log('skipped: clang-19 not found');
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-bench-hash-'));
  const load0 = loadavg()[0]!;
  try {
    const src = join(tmp, 'hash.c');
    const obj = join(tmp, 'hash.o');
    const pkt = join(tmp, 'pkt');
    writeFileSync(src, SOURCE);
    writeFileSync(pkt, new Uint8Array(64));
    // Debian keeps asm/types.h under the multiarch include folder (as scripts/build-fixtures.sh passes it).
    const multiarch = `/usr/include/${arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
    execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', `-I${multiarch}`, '-c', src, '-o', obj], { stdio: ['ignore', 'ignore', 'pipe'] });
    const rt = new Runtime({ engine: 'jit' });
    const c = await rt.load(await loadObjectFile(obj));
    const data = new Uint8Array(64);
    const fill = (col: typeof c): void => {
      col.program('fill').run({ data });
      col.program('fill_lru').run({ data });
      col.program('fill_pcpu').run({ data });
      col.program('fill_lpm').run({ data });
    };
    fill(c);
    // A/B: no inlined helpers, the lookups call the generic probe
    const rtB = new Runtime({ engine: new JitEngine({ inliners: new Map() }) });
    const cB = await rtB.load(await loadObjectFile(obj));
    fill(cB);
    // A/B for the LRU rows: the helpers without their WebAssembly forms (as before the LRU probe)
    const rtJ = new Runtime({ engine: 'jit', helpers: new HelperRegistry([...defaultHelpers()].map(({ wasm32: _w, ...def }) => def)) });
    const cJ = await rtJ.load(await loadObjectFile(obj));
    fill(cJ);
    const k = kernel(obj, pkt);
    const rows: string[] = [];
    try {
      const only = process.env['TSBPF_HASHMAP_ROWS'];
      for (const [name, what, baseline] of PROGRAMS) {
        if (only && !name.startsWith(only)) continue;
        const p = c.program(name);
        const pB = (baseline === 'noInline' ? cB : cJ).program(name);
        const repeat = 20_000;
        const ours = p.run({ data, repeat: 2_000 });
        if (ours.retval !== XDP_PASS) throw new Error(`${name}: tsbpf returned ${ours.retval}`);
        if (pB.run({ data, repeat: 2_000 }).retval !== XDP_PASS) throw new Error(`${name}: tsbpf (${BASELINE[baseline]}) returned the wrong answer`);
        const t: Best = { wall: Infinity, cpu: Infinity };
        const tB: Best = { wall: Infinity, cpu: Infinity };
        const kb: Best = { wall: Infinity, cpu: Infinity };
        let kernelNote = typeof k === 'string' ? k : '';
        for (let round = 0; round < 5; round++) {
          const c0 = process.cpuUsage();
          t.wall = Math.min(t.wall, p.run({ data, repeat }).duration);
          const cu = process.cpuUsage(c0);
          t.cpu = Math.min(t.cpu, ((cu.user + cu.system) * 1000) / repeat);
          const c1 = process.cpuUsage();
          tB.wall = Math.min(tB.wall, pB.run({ data, repeat }).duration);
          const cu1 = process.cpuUsage(c1);
          tB.cpu = Math.min(tB.cpu, ((cu1.user + cu1.system) * 1000) / repeat);
          if (typeof k !== 'string') {
            const r = k.run(name, repeat * 5);
            if (r.retval !== XDP_PASS) kernelNote = `kernel returned ${r.retval}`;
            kb.wall = Math.min(kb.wall, r.ns);
            kb.cpu = Math.min(kb.cpu, r.cpuNs);
          }
        }
        const perOp = (ns: number): string => (Number.isFinite(ns) ? (ns / 256).toFixed(1) : '-');
        const ratio = (a: number, b: number): string => (Number.isFinite(b) && !kernelNote ? `${(a / b).toFixed(2)}x` : kernelNote || '-');
        rows.push(`| ${what} | ${perOp(t.wall)} | ${perOp(kb.wall)} | ${ratio(t.wall, kb.wall)} | ${perOp(t.cpu)} | ${perOp(kb.cpu)} | ${ratio(t.cpu, kb.cpu)} |`);
        rows.push(`| ${what}, A/B baseline: ${BASELINE[baseline]} | ${perOp(tB.wall)} | ${perOp(kb.wall)} | ${ratio(tB.wall, kb.wall)} | ${perOp(tB.cpu)} | ${perOp(kb.cpu)} | ${ratio(tB.cpu, kb.cpu)} |`);
      }
    } finally {
      if (typeof k !== 'string') k.close();
      rt.close();
      rtB.close();
      rtJ.close();
    }
    console.log('ns per map operation (a run / 256), best of 5 rounds; wall: each side\'s own test-run timer; CPU: the process\'s CPU time');
    console.log('');
    console.log('| work | tsbpf JIT, wall | kernel, wall | tsbpf / kernel, wall | tsbpf JIT, CPU | kernel, CPU | tsbpf / kernel, CPU |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) console.log(r);
    console.log(`\nload average: ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (2 cores)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
