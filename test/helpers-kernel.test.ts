/**
 * Helpers against the kernel: test/kernel-progs/helpers.c (built here with
 * clang) calls xdp_adjust_meta/head/tail, l3/l4_csum_replace, csum_diff,
 * skb_load_bytes/store_bytes, snprintf, bpf_loop, strncmp and
 * probe_read_kernel(_str) — and tail-calls itself to the limit — with parameters taken from the packet and writes
 * the results into the packet. Seeded random parameter sets (edge values
 * included) run through `bpftool prog run` and through tsbpf's interpreter
 * and JIT; return values and output packets must be identical. Needs root,
 * bpftool and clang-19; skips with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MULTIARCH_INCLUDE, ROOT } from './paths.js';
import { BPFFS, bpftool, errnoOf, helperRefusal, kernelSkipReason, possibleCpus, toHex, which } from './runtime-kerneltools.js';
import { readObject } from '../src/object/reader.js';
import { packetSet } from './runtime-packets.js';
import { Runtime } from '../src/runtime/index.js';
import { TsbpfError } from '../src/errors.js';
import { rng } from './support/random.js';

const SOURCE = join(ROOT, 'test/kernel-progs/helpers.c');

function skipReason(): string | undefined {
  const k = kernelSkipReason();
  if (k) return k;
  if (!which('clang-19')) return 'clang-19 is not installed';
  return undefined;
}

type Gen = (r: () => number, i: number) => Uint8Array;

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const u32 = (r: () => number): number => Math.floor(r() * 2 ** 32) >>> 0;
const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function packet(r: () => number, size: number, etherType = 0x88b5): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = Math.floor(r() * 256);
  p[12] = etherType >> 8;
  p[13] = etherType & 0xff;
  return p;
}

const GENERATORS: Record<string, Gen> = {
  adjust: (r) => {
    const len = int(r, 14 + 12, 300);
    const p = packet(r, len);
    const dv = new DataView(p.buffer);
    dv.setInt32(14, pick(r, [0, 0, -4, -8, -32, -252, -256, -3, 4, int(r, -300, 40)]), true);
    dv.setInt32(18, pick(r, [0, -14, -216, -217, -212, -256, 14, len - 14, len - 13, int(r, -300, 300)]), true);
    dv.setInt32(22, pick(r, [0, 10, -10, 3000, 3520 - len, 3521 - len, -(len - 14), -(len - 13), int(r, -400, 4000)]), true);
    return p;
  },
  csum: (r) => {
    const p = packet(r, 128);
    const dv = new DataView(p.buffer);
    const off = pick(r, [int(r, 0, 126) & ~1, int(r, 0, 130), 126, 127, 128, 0x10000, u32(r)]);
    const flagsLo = pick(r, [0, 2, 4, 1, 3, 8, 0x10, 2, 4]);
    const flagsHi = pick(r, [0, 2, 4, 0x12, 0x22, 0x32, 0x62, 0x84, 0x82, 0x102, 0x14]);
    const from = pick(r, [0, u32(r), u32(r) & 0xffff]);
    dv.setUint32(14, off, true);
    dv.setUint32(18, (flagsLo === 0 || (flagsHi & 0xf) === 0) && r() < 0.5 ? 0 : from, true);
    dv.setUint32(22, u32(r), true);
    dv.setUint32(26, flagsLo | (flagsHi << 8), true);
    dv.setUint32(30, pick(r, [0, u32(r), 0xffffffff]), true);
    // A zero checksum field for BPF_F_MARK_MANGLED_0.
    if (r() < 0.3 && off + 4 <= 128) p.fill(0, off & ~1, (off & ~1) + 4);
    return p;
  },
  bytes: (r) => {
    const p = packet(r, 96);
    const dv = new DataView(p.buffer);
    dv.setUint32(14, pick(r, [int(r, 0, 96), 88, 89, 0x7fffffff, 0x80000000, u32(r)]), true);
    dv.setUint32(18, pick(r, [int(r, 0, 96), 88, 89, 0x7fffffff, 0x80000000, u32(r)]), true);
    dv.setUint32(22, pick(r, [0, 0, 1, 2, 3, 4, 0x10]), true);
    return p;
  },
  fmt: (r) => {
    const p = packet(r, 160);
    const dv = new DataView(p.buffer);
    dv.setUint32(14, pick(r, [0, 0, 1, 1, 2, 0x05, 0x01, 0x0f, 0x00a]), true);
    for (let i = 0; i < 10; i++) {
      const v = pick(r, [BigInt(int(r, -5, 5)), BigInt(u32(r)), BigInt.asUintN(64, BigInt(u32(r)) << 32n | BigInt(u32(r))), 0x41n, 0xffffffffffffffffn]);
      dv.setBigUint64(22 + 8 * i, v, true);
    }
    return p;
  },
  misc: (r) => {
    const p = packet(r, 96);
    const dv = new DataView(p.buffer);
    dv.setUint32(14, pick(r, [0, 1, 5, 44, 45, 46, 100, 1 << 23, (1 << 23) + 1, 0xffffffff, int(r, 0, 2000)]), true);
    dv.setUint32(18, r() < 0.8 ? 0 : pick(r, [1, 2, 0x80000000]), true);
    dv.setUint32(22, u32(r), true);
    const s = pick(r, ['hello\0\0\0', 'hellp\0\0\0', 'hell\0\0\0\0', 'hello!!!', 'abc\0\0\0\0\0', 'hellz\0\0\0', '\0\0\0\0\0\0\0\0', 'hello\0xy']);
    for (let i = 0; i < 8; i++) p[30 + i] = s.charCodeAt(i);
    return p;
  },
};

GENERATORS.tailself = (r) => packet(r, int(r, 14, 80));
const redir: Gen = (r) => {
  const p = packet(r, 64);
  const dv = new DataView(p.buffer);
  dv.setUint32(14, pick(r, [1, 2, 7, u32(r)]), true);
  dv.setBigUint64(22, pick(r, [0n, 0n, 1n, 2n, 8n, 1n << 40n]), true);
  return p;
};
GENERATORS.xdpredir = redir;
GENERATORS.tcredir = redir;
GENERATORS.frags = (r) => {
  const len = pick(r, [int(r, 64, 3520), int(r, 3521, 9000), int(r, 8000, 14000), 4096 - 256 - 320 + 1]);
  const p = packet(r, len);
  const dv = new DataView(p.buffer);
  const total = len;
  dv.setInt32(14, pick(r, [0, 1, -1, 100, -100, 4096, -(total - 14), -(total - 13), int(r, -5000, 5000)]), true);
  dv.setUint32(18, pick(r, [0, 3510, 3518, 3520, total - 8, total - 7, int(r, 0, total), 0x10000]), true);
  dv.setUint32(22, pick(r, [40, 3516, 3520, total - 8, total - 4, int(r, 40, total), 0x10000]), true);
  return p;
};
const PACKETS = packetSet();
GENERATORS.skbfields = (_r, i) => PACKETS[i % PACKETS.length]!.data;
GENERATORS.xdpfields = (r, i) => (i < PACKETS.length ? PACKETS[i]!.data : packet(r, int(r, 14, 5000)));

/** Context inputs: some cases run with a ctx_in (ctx_out compared too). */
const CONTEXTS: Record<string, (r: () => number, i: number, data: Uint8Array) => Uint8Array | undefined> = {
  skbfields: (r, i) => {
    if (i % 3 === 0) return undefined;
    const c = new Uint8Array(192);
    const dv = new DataView(c.buffer);
    dv.setUint32(8, u32(r), true); // mark
    dv.setUint32(32, u32(r), true); // priority
    dv.setUint32(36, pick(r, [0, 1, 5]), true); // ingress_ifindex
    dv.setUint32(40, pick(r, [0, 1]), true); // ifindex
    for (let k = 0; k < 5; k++) dv.setUint32(48 + 4 * k, u32(r), true); // cb[]
    dv.setBigUint64(152, BigInt(u32(r)), true); // tstamp
    dv.setUint32(160, pick(r, [0, 0, 100, 1500, 70000]), true); // wire_len
    dv.setUint32(164, pick(r, [0, 1, 70000]), true); // gso_segs
    dv.setUint32(176, pick(r, [0, 1400]), true); // gso_size
    if (i % 7 === 0) dv.setUint32(pick(r, [0, 16, 68, 80, 140, 180]), 1, true); // a field ctx_in may not set
    return c;
  },
  xdpfields: (r, i, data) => {
    if (i % 2 === 0) return undefined;
    const c = new Uint8Array(24);
    const dv = new DataView(c.buffer);
    const meta = pick(r, [0, 4, 8, 32, 2]);
    dv.setUint32(0, meta, true);
    dv.setUint32(4, pick(r, [data.length, data.length - 1, meta + 14, data.length + 1]), true);
    dv.setUint32(12, pick(r, [0, 1, 1, 99]), true);
    dv.setUint32(16, pick(r, [0, 0, 1]), true);
    return c;
  },
};

const CASES = 36;
const skip = skipReason();
if (skip) console.log(`# helpers-kernel: skipped: ${skip}`);

test('helpers against the kernel', { skip: skip ? `skipped: ${skip}` : false }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-hk-'));
  const obj = join(tmp, 'helpers.o');
  const pinDir = join(BPFFS, `tsbpf-helpers-${process.pid}`);
  // Pinned maps keep a user reference, so the prog_array keeps its slot after bpftool exits.
  const mapDir = `${pinDir}-maps`;
  rmSync(pinDir, { recursive: true, force: true });
  rmSync(mapDir, { recursive: true, force: true });
  const rts = (['interpreter', 'jit'] as const).map((engine) => new Runtime({ engine, numCpus: possibleCpus() }));
  try {
    execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', MULTIARCH_INCLUDE, '-c', SOURCE, '-o', obj], { stdio: 'pipe' });
    const load = bpftool(['prog', 'loadall', obj, pinDir, 'pinmaps', mapDir]);
    const refused = load.ok ? undefined : helperRefusal(load.stderr);
    if (refused) return t.skip(`the running kernel refuses a helper of test/kernel-progs/helpers.c: ${refused}`);
    assert.ok(load.ok, `bpftool prog loadall: ${JSON.stringify(load.json)}`);
    const spec = readObject(new Uint8Array(readFileSync(obj)), { name: 'helpers' });
    const colls = await Promise.all(rts.map((rt) => rt.load(spec)));
    const inFile = join(tmp, 'in');
    const ctxIn = join(tmp, 'ctx');
    const ctxOut = join(tmp, 'ctx.out');
    const outFile = join(tmp, 'out');
    for (const [name, gen] of Object.entries(GENERATORS)) {
      await t.test(name, () => {
        const r = rng(0x5eed + name.length * 7919);
        for (let i = 0; i < CASES; i++) {
          const data = gen(r, i);
          const ctx = CONTEXTS[name]?.(r, i, data);
          const ctxArgs: string[] = [];
          if (ctx) {
            writeFileSync(ctxIn, ctx);
            rmSync(ctxOut, { force: true });
            ctxArgs.push('ctx_in', ctxIn, 'ctx_out', ctxOut);
          }
          // Repeated runs share one buffer in the kernel (adjustments accumulate): check that too.
          for (const repeat of name === 'adjust' ? [1, 3] : [1]) {
          writeFileSync(inFile, data);
          rmSync(outFile, { force: true });
          const k = bpftool(['prog', 'run', 'pinned', join(pinDir, name), 'data_in', inFile, 'data_out', outFile, ...ctxArgs, 'repeat', String(repeat)]);
          for (const [ci, c] of colls.entries()) {
            const where = `${name} [${ci ? 'jit' : 'interpreter'}] case ${i} repeat ${repeat} (${toHex(data.subarray(14, 46))})`;
            let mine: { retval: number; data?: Uint8Array; ctx?: Uint8Array } | TsbpfError;
            try {
              mine = c.program(name).run({ data, repeat, ...(ctx ? { ctx } : {}) });
            } catch (e) {
              if (!(e instanceof TsbpfError)) throw e;
              mine = e;
            }
            if (!k.ok) {
              const msg = String((k.json as { error?: string }).error);
              assert.ok(mine instanceof TsbpfError, `${where}: kernel refused (${msg}), tsbpf ran it`);
              assert.equal(mine.errno, errnoOf(msg), where);
              continue;
            }
            assert.ok(!(mine instanceof TsbpfError), `${where}: tsbpf threw ${(mine as Error).message}`);
            assert.equal(mine.retval, (k.json as { retval: number }).retval, `${where}: retval`);
            const kout = existsSync(outFile) ? new Uint8Array(readFileSync(outFile)) : new Uint8Array(0);
            assert.equal(toHex(mine.data ?? new Uint8Array(0)), toHex(kout), `${where}: output`);
            if (ctx) assert.equal(toHex((mine as { ctx?: Uint8Array }).ctx ?? new Uint8Array(0)), toHex(new Uint8Array(readFileSync(ctxOut))), `${where}: ctx_out`);
          }
          }
        }
      });
    }
    for (const c of colls) c.close();
  } finally {
    for (const rt of rts) rt.close();
    rmSync(pinDir, { recursive: true, force: true });
    rmSync(mapDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
});
