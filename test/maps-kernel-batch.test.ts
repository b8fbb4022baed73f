/**
 * Differential tests of the batch commands (BPF_MAP_LOOKUP_BATCH,
 * LOOKUP_AND_DELETE_BATCH, UPDATE_BATCH, DELETE_BATCH) against the real
 * kernel. bpftool has no batch commands, so the test compiles a small libbpf
 * client (C source below) and runs it on pinned maps.
 *
 * Skips (with the reason printed) when not root, when bpftool, cc or the
 * libbpf headers are missing, or when bpffs is not mounted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERRNO_VALUES, type Errno } from '../src/errors.js';
import { MapError, LpmTrie, type BpfMap, type BatchResult } from '../src/maps/index.js';
import type { MapSpec, MapTypeName } from '../src/object/spec.js';
import { ctx, make } from './maps-support.js';

const BPFFS = '/sys/fs/bpf';
const C_SOURCE = String.raw`#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void hex(const unsigned char *p, int n) { putchar('"'); for (int i = 0; i < n; i++) printf("%02x", p[i]); putchar('"'); }
static int unhex(const char *s, unsigned char *out) { int n = strlen(s) / 2; for (int i = 0; i < n; i++) sscanf(s + 2 * i, "%2hhx", &out[i]); return n; }
int main(int argc, char **argv) {
  int fd = bpf_obj_get(argv[1]);
  if (fd < 0) { printf("{\"fatal\":%d}\n", errno); return 1; }
  struct bpf_map_info info = {0}; __u32 il = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &il)) { printf("{\"fatal\":%d}\n", errno); return 1; }
  int percpu = info.type == BPF_MAP_TYPE_PERCPU_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_HASH || info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  int ncpu = libbpf_num_possible_cpus();
  int vs = percpu ? ((info.value_size + 7) / 8 * 8) * ncpu : info.value_size, ks = info.key_size;
  const char *op = argv[2];
  DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
  if (!strcmp(op, "lookup") || !strcmp(op, "lookupdel")) {
    __u32 count = atoi(argv[3]);
    unsigned char in[64] = {0}, out[64] = {0};
    int hasin = argc > 4;
    if (hasin) unhex(argv[4], in);
    unsigned char *keys = calloc(count + 1, ks + 1), *vals = calloc(count + 1, vs + 1);
    int r = !strcmp(op, "lookup") ? bpf_map_lookup_batch(fd, hasin ? in : NULL, out, keys, vals, &count, &opts)
                                  : bpf_map_lookup_and_delete_batch(fd, hasin ? in : NULL, out, keys, vals, &count, &opts);
    int e = r ? errno : 0;
    printf("{\"errno\":%d,\"count\":%u,\"out\":", e, count); hex(out, ks > 4 ? ks : 4);
    printf(",\"keys\":["); for (__u32 i = 0; i < count; i++) { if (i) putchar(','); hex(keys + i * ks, ks); }
    printf("],\"values\":["); for (__u32 i = 0; i < count; i++) { if (i) putchar(','); hex(vals + i * vs, vs); }
    printf("]}\n");
    return 0;
  }
  if (!strcmp(op, "update") || !strcmp(op, "delete")) {
    int upd = !strcmp(op, "update"), a = upd ? 4 : 3;
    if (upd) opts.elem_flags = atoi(argv[3]);
    __u32 n = upd ? (argc - a) / 2 : argc - a;
    unsigned char *keys = calloc(n + 1, ks + 1), *vals = calloc(n + 1, vs + 1);
    for (__u32 i = 0; i < n; i++) {
      unhex(argv[a + (upd ? 2 * i : i)], keys + i * ks);
      if (upd) for (int c = 0; c < (percpu ? ncpu : 1); c++) unhex(argv[a + 2 * i + 1], vals + i * vs + c * (percpu ? (info.value_size + 7) / 8 * 8 : 0));
    }
    __u32 count = n;
    int r = upd ? bpf_map_update_batch(fd, keys, vals, &count, &opts) : bpf_map_delete_batch(fd, keys, &count, &opts);
    printf("{\"errno\":%d,\"count\":%u}\n", r ? errno : 0, count);
    return 0;
  }
  return 2;
}
`;

let tool = '';
let workDir = '';
function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('bpftool', ['version']).status !== 0) return 'bpftool is missing';
  if (!existsSync('/usr/include/bpf/bpf.h')) return 'libbpf headers are missing (libbpf-dev)';
  if (spawnSync('sh', ['-c', `mount | grep -q ' ${BPFFS} type bpf'`]).status !== 0) return `bpffs not mounted at ${BPFFS}`;
  workDir = mkdtempSync(join(tmpdir(), 'tsbpf-batch-'));
  writeFileSync(join(workDir, 'batchtool.c'), C_SOURCE);
  tool = join(workDir, 'batchtool');
  const cc = spawnSync('cc', ['-O1', '-o', tool, join(workDir, 'batchtool.c'), '-lbpf'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return `cannot build the libbpf client: ${cc.error?.message ?? cc.stderr.split('\n')[0]}`;
  return undefined;
}
const SKIP = skipReason();
if (SKIP) console.log(`# maps-kernel-batch: skipped: ${SKIP}`);
test.after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function possibleCpus(): number {
  const r = spawnSync('cat', ['/sys/devices/system/cpu/possible'], { encoding: 'utf8' });
  const m = /^(\d+)(?:-(\d+))?/.exec(r.stdout?.trim() ?? '0');
  return m ? Number(m[2] ?? m[1]) + 1 : 1;
}
const NCPU = SKIP ? 1 : possibleCpus();

const errName = (n: number): string => (n === 0 ? 'OK' : ((Object.keys(ERRNO_VALUES) as Errno[]).find((k) => ERRNO_VALUES[k] === n) ?? `errno ${n}`));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const le32 = (n: number): string => hex(Uint8Array.of(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24));

interface BRes {
  err: string;
  count?: number;
  keys?: string[];
  values?: string[];
  out?: string;
}

let seq = 0;
function create(s: MapSpec): { path: string; t: BpfMap<unknown> } {
  const path = `${BPFFS}/tsbpf_batchtest_${process.pid}_${seq++}`;
  const r = spawnSync('bpftool', ['map', 'create', path, 'type', s.type, 'key', String(s.keySize), 'value', String(s.valueSize), 'entries', String(s.maxEntries), 'name', 'tsbpf_b', 'flags', String(s.flags)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { path, t: make<BpfMap<unknown>>(s, ctx(NCPU)) };
}

function kernel(path: string, args: string[]): BRes {
  const r = spawnSync(tool, [path, ...args], { encoding: 'utf8' });
  const j = JSON.parse(r.stdout) as { errno: number; count: number; keys?: string[]; values?: string[]; out?: string; fatal?: number };
  assert.equal(j.fatal, undefined, `batchtool failed: ${r.stdout}`);
  const res: BRes = { err: errName(j.errno) };
  // On errors other than ENOENT the kernel may not write count back: compare it only where defined.
  if (j.errno === 0 || j.errno === 2 || args[0] === 'update' || args[0] === 'delete') res.count = j.count;
  if (j.keys && (j.errno === 0 || j.errno === 2)) {
    res.keys = j.keys;
    res.values = j.values;
    if (j.count > 0) res.out = j.out;
  }
  if ((args[0] === 'update' || args[0] === 'delete') && j.errno !== 0 && j.errno !== 2 && j.errno !== 7) delete res.count;
  return res;
}

/** Per-CPU values as the kernel lays them out for bpf(2): each CPU's value padded to 8 bytes. */
function valueHex(v: unknown, valueSize: number): string {
  if (!Array.isArray(v)) return hex(v as Uint8Array);
  const slot = Math.ceil(valueSize / 8) * 8;
  const out = new Uint8Array(slot * v.length);
  v.forEach((x, i) => out.set(x as Uint8Array, i * slot));
  return hex(out);
}

function ours(t: BpfMap<unknown>, args: string[]): BRes {
  const [op, ...rest] = args;
  try {
    if (op === 'lookup' || op === 'lookupdel') {
      const count = Number(rest[0]);
      const cursor = rest[1] !== undefined ? Uint8Array.from(Buffer.from(rest[1], 'hex')) : undefined;
      const r: BatchResult<unknown> = op === 'lookup' ? t.lookupBatch(count, cursor) : t.lookupAndDeleteBatch(count, cursor);
      const res: BRes = { err: r.done ? 'ENOENT' : 'OK', count: r.keys.length, keys: r.keys.map(hex), values: r.values.map((v) => valueHex(v, t.valueSize)) };
      if (r.keys.length > 0) res.out = hex(r.cursor!);
      return res;
    }
    if (op === 'update') {
      const flags = Number(rest[0]);
      const keys: Uint8Array[] = [];
      const values: Uint8Array[] = [];
      for (let i = 1; i < rest.length; i += 2) {
        keys.push(Uint8Array.from(Buffer.from(rest[i]!, 'hex')));
        values.push(Uint8Array.from(Buffer.from(rest[i + 1]!, 'hex')));
      }
      return { err: 'OK', count: t.updateBatch(keys, values as never, flags) };
    }
    const keys = rest.map((k) => Uint8Array.from(Buffer.from(k, 'hex')));
    return { err: 'OK', count: t.deleteBatch(keys) };
  } catch (e) {
    if (!(e instanceof MapError)) throw e;
    // a cursor past the end: the kernel reports ENOENT with nothing copied
    if (e.errno === 'ENOENT' && (op === 'lookup' || op === 'lookupdel')) return { err: 'ENOENT', count: 0, keys: [], values: [] };
    const res: BRes = { err: e.errno };
    if (e.count !== undefined && ['ENOENT', 'E2BIG'].includes(e.errno)) res.count = e.count;
    return res;
  }
}

function spec(type: MapTypeName, keySize: number, valueSize: number, maxEntries: number, flags = 0): MapSpec {
  return { name: 'tsbpf_b', type, keySize, valueSize, maxEntries, flags, pinning: 'none' };
}

/** Run each command on both and compare; `unordered` compares keys/values as sets (hash order). */
function run(s: MapSpec, cmds: string[][], unordered = false): void {
  const { path, t } = create(s);
  try {
    for (const c of cmds) {
      const k = kernel(path, c);
      const o = ours(t, c);
      if (unordered && k.keys) {
        const pair = (r: BRes) => (r.keys ?? []).map((x, i) => `${x}=${r.values![i]}`).sort();
        assert.deepEqual(pair(o), pair(k), `${s.type} ${c.join(' ')}: elements`);
        delete k.keys, delete k.values, delete o.keys, delete o.values;
        if (c[0] === 'lookup' && c[1] !== undefined && Number(c[1]) >= 100) {
          // a whole-map walk ends at the bucket count, which tsbpf sizes as the kernel does
        } else delete k.out, delete o.out;
      }
      assert.deepEqual(o, k, `${s.type} ${c.join(' ')}`);
    }
  } finally {
    rmSync(path, { force: true });
    t.close();
  }
}

test('kernel batch: array — generic lookup walk and cursor, update stops at E2BIG, no delete batches', { skip: SKIP }, () => {
  run(spec('array', 4, 4, 6), [
    ['update', '0', le32(0), le32(11), le32(1), le32(22), le32(7), le32(33), le32(2), le32(44)],
    ['update', '1', le32(0), le32(11)],
    ['lookup', '4'],
    ['lookup', '4', le32(3)],
    ['lookup', '4', le32(5)],
    ['lookup', '0'],
    ['lookup', '10'],
    ['delete', le32(0)],
    ['lookupdel', '4'],
  ]);
});

test('kernel batch: percpu_array values for every possible CPU', { skip: SKIP }, () => {
  run(spec('percpu_array', 4, 4, 3), [['update', '0', le32(1), le32(5), le32(2), le32(6)], ['lookup', '2'], ['lookup', '5', le32(1)]]);
});

test('kernel batch: hash — bucket walk to the end, lookup_and_delete, delete stops at ENOENT, full map', { skip: SKIP }, () => {
  run(
    spec('hash', 4, 4, 6),
    [
      ['update', '0', le32(1), le32(10), le32(2), le32(20), le32(3), le32(30), le32(4), le32(40)],
      ['update', '2', le32(1), le32(10)],
      ['update', '0', le32(5), le32(50), le32(6), le32(60), le32(7), le32(70)],
      ['lookup', '100'],
      ['lookup', '0'],
      ['lookup', '1', le32(64)],
      ['delete', le32(1), le32(9), le32(2)],
      ['lookupdel', '100'],
      ['lookup', '100'],
    ],
    true,
  );
});

test('kernel batch: lpm_trie lookups walk in the trie\'s postorder; no lookup_and_delete', { skip: SKIP }, () => {
  const k = (len: number, ...d: number[]) => hex(LpmTrie.key(len, [...d, 0, 0, 0, 0].slice(0, 4)));
  run(spec('lpm_trie', 8, 4, 8, 1), [
    ['update', '0', k(8, 10), le32(8), k(16, 10, 1), le32(16), k(24, 10, 1, 2), le32(24), k(16, 10, 128), le32(99), k(0), le32(0)],
    ['lookup', '3'],
    ['lookup', '10', k(16, 10, 1)],
    ['delete', k(16, 10, 1), k(12, 10)],
    ['lookup', '10'],
    ['lookupdel', '10'],
  ]);
});

test('kernel batch: queue has no batch commands; frozen maps refuse batch writes', { skip: SKIP }, () => {
  run(spec('queue', 0, 4, 4), [['lookup', '4']]);
  const s = spec('hash', 4, 4, 4);
  const { path, t } = create(s);
  try {
    assert.deepEqual(ours(t, ['update', '0', le32(1), le32(1)]), kernel(path, ['update', '0', le32(1), le32(1)]));
    t.freeze();
    assert.equal(spawnSync('bpftool', ['map', 'freeze', 'pinned', path]).status, 0);
    for (const c of [['update', '0', le32(2), le32(2)], ['delete', le32(1)], ['lookupdel', '4'], ['lookup', '4']]) {
      const o = ours(t, c);
      const k = kernel(path, c);
      if (k.err !== 'EPERM') delete k.out, delete o.out;
      if (k.err === 'EPERM') delete k.count;
      assert.deepEqual(o, k, c.join(' '));
    }
  } finally {
    rmSync(path, { force: true });
    t.close();
  }
});
