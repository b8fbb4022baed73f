/**
 * BPF_MAP_TYPE_DEVMAP / DEVMAP_HASH: creation rules, host operations and
 * walk order, program lookups, and bpf_redirect_map's return values in test
 * runs. The unit parts need nothing; the program parts need clang-19; the
 * comparisons with Linux (bpftool on pinned maps and programs) need root and
 * bpftool and skip with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMapSpec, DevMap, DevMapHash, MapError } from '../src/maps/index.js';
import { openPinnedMap, pinMap } from '../src/maps/pin.js';
import type { MapSpec } from '../src/object/spec.js';
import { ctx, make, spec, u32 } from './maps-support.js';
import { BPFFS, bpftool as bpftoolRaw, errnoOf as kernelErrno, kernelSkipReason, which } from './runtime-kerneltools.js';
import { MULTIARCH_INCLUDE, ROOT } from './paths.js';
import { Runtime } from '../src/runtime/index.js';
import { loadCollectionFile } from '../src/runtime/node.js';

const KSKIP = kernelSkipReason();
if (KSKIP) console.log(`# maps-devmap: kernel comparisons skipped: ${KSKIP}`);
const CLANG_SKIP = which('clang-19') ? undefined : 'clang-19 is not installed';
if (CLANG_SKIP) console.log(`# maps-devmap: program tests skipped: ${CLANG_SKIP}`);

const errnoOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof MapError, `expected a MapError, got ${String(e)}`);
    return e.errno;
  }
};
/** bpftool -j: the JSON it printed, or the errno of its error message. */
function bpftool(args: string[]): { errno?: string; value?: unknown } {
  const r = bpftoolRaw(args);
  if (r.ok) return { value: r.json };
  const msg = String((r.json as { error?: string } | null)?.error ?? '');
  return { errno: kernelErrno(msg) ?? `?${msg}` };
}
const devices = (...ifs: number[]): { has(i: number): boolean } => ({ has: (i) => ifs.includes(i) });

const CREATE_CASES: Array<[MapSpec, string | undefined]> = [
  [spec('devmap', 4, 4, 4), undefined],
  [spec('devmap', 4, 8, 4), undefined],
  [spec('devmap_hash', 4, 8, 4), undefined],
  [spec('devmap', 8, 4, 4), 'EINVAL'],
  [spec('devmap', 4, 6, 4), 'EINVAL'],
  [spec('devmap', 4, 12, 4), 'EINVAL'],
  [spec('devmap', 4, 4, 0), 'EINVAL'],
  [spec('devmap_hash', 4, 4, 0), 'EINVAL'],
  [spec('devmap', 4, 4, 4, 0x80), 'EINVAL'], // BPF_F_RDONLY_PROG is the kernel's to set
  [spec('devmap', 4, 4, 4, 1), 'EINVAL'], // BPF_F_NO_PREALLOC
  [spec('devmap', 4, 4, 4, 4), undefined], // BPF_F_NUMA_NODE
  [spec('devmap_hash', 4, 4, 4, 8), undefined], // BPF_F_RDONLY
  [spec('devmap', 4, 4, 4, 8 | 16), 'EINVAL'],
  [spec('devmap_hash', 4, 4, 2 ** 31 + 1), 'EINVAL'],
];

test('devmap creation follows dev_map_alloc_check', () => {
  for (const [s, want] of CREATE_CASES) {
    const got = errnoOf(() => checkMapSpec(s));
    assert.equal(got, want, `${s.type} key ${s.keySize} value ${s.valueSize} entries ${s.maxEntries} flags ${s.flags}`);
  }
  const m = make<DevMap>(spec('devmap', 4, 4, 4));
  assert.ok(m instanceof DevMap);
  assert.equal(m.flags, 0x80, 'the kernel makes devmaps BPF_F_RDONLY_PROG');
});

test('kernel: devmap creation errors match Linux', { skip: KSKIP }, () => {
  for (const [s, want] of CREATE_CASES) {
    if (s.maxEntries > 2 ** 31) continue; // the kernel may answer ENOMEM first for the huge array
    const path = `${BPFFS}/tsbpf_devmap_${process.pid}`;
    rmSync(path, { force: true });
    const r = bpftool(['map', 'create', path, 'type', s.type, 'key', String(s.keySize), 'value', String(s.valueSize), 'entries', String(s.maxEntries), 'name', 't', 'flags', String(s.flags)]);
    rmSync(path, { force: true });
    assert.equal(r.errno, want, `${s.type} ${s.keySize}/${s.valueSize}/${s.maxEntries}/${s.flags}: kernel ${r.errno ?? 'ok'}`);
  }
});

test('devmap: host update, lookup, delete and walk', () => {
  const m = make<DevMap>(spec('devmap', 4, 4, 4), ctx(1, { devices: devices(1, 7) }));
  m.set(0, 7);
  m.set(2, 1);
  assert.deepEqual(m.get(0), u32(7));
  assert.equal(m.get(1), undefined);
  assert.equal(errnoOf(() => m.set(1, 9)), 'EINVAL', 'no device 9');
  assert.equal(errnoOf(() => m.set(4, 7)), 'E2BIG');
  assert.equal(errnoOf(() => m.set(1, 7, 1)), 'EEXIST', 'BPF_NOEXIST: devmap slots always exist');
  assert.equal(errnoOf(() => m.set(1, 7, 3)), 'EINVAL');
  m.set(1, 7, 2); // BPF_EXIST on an empty slot is fine
  assert.deepEqual(m.get(1), u32(7));
  m.set(1, 0); // ifindex 0 empties the slot
  assert.equal(m.get(1), undefined);
  m.delete(3); // deleting an empty slot succeeds
  assert.equal(errnoOf(() => m.delete(4)), 'EINVAL');
  assert.deepEqual([...m.keys()].map((k) => k[0]), [0, 1, 2, 3], 'array walk visits every index');
  assert.deepEqual([...m.entries()].map(([k, v]) => [k[0], v[0]]), [[0, 7], [2, 1]]);
  assert.equal(m.target(0), 7);
  assert.equal(m.target(4), undefined);
  m.delete(0);
  assert.equal(m.target(0), undefined);
  m.close();
});

test('devmap: 8-byte values carry bpf_prog; a program fd is refused plainly', () => {
  const m = make<DevMap>(spec('devmap', 4, 8, 2), ctx(1, { devices: devices(7) }));
  const val = (ifindex: number, fd: number): Uint8Array => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, ifindex, true);
    new DataView(b.buffer).setInt32(4, fd, true);
    return b;
  };
  m.set(0, val(7, -1));
  assert.deepEqual(m.get(0), val(7, 0), 'no program: id 0');
  const e = (() => {
    try {
      m.set(1, val(7, 5));
    } catch (x) {
      return x as MapError;
    }
    return undefined;
  })();
  assert.equal(e?.errno, 'EOPNOTSUPP');
  assert.match(e!.message, /devmap programs/);
  assert.equal(errnoOf(() => m.set(1, val(0, 5))), 'EINVAL', 'an fd without an ifindex');
  m.close();
});

test('devmap_hash: update rules and the kernel bucket walk order', () => {
  const m = make<DevMapHash>(spec('devmap_hash', 4, 4, 4), ctx(1, { devices: devices(1, 7) }));
  assert.equal(errnoOf(() => m.set(5, 0)), 'EINVAL', 'ifindex 0');
  m.set(5, 7, 2); // BPF_EXIST on a missing key inserts, as dev_map_hash_update_elem does
  m.set(1, 1);
  m.set(9, 1); // same bucket as 5 and 1 (4 buckets): head insertion
  assert.equal(errnoOf(() => m.set(9, 7, 1)), 'EEXIST');
  m.set(100, 7);
  assert.equal(errnoOf(() => m.set(6, 7)), 'E2BIG', 'full');
  m.set(100, 1); // replacing is not growing
  const order = [...m.keys()].map((k) => new DataView(k.buffer).getUint32(0, true));
  // buckets: 0 -> [100]; 1 -> [9, 1, 5] (newest first)
  assert.deepEqual(order, [100, 9, 1, 5]);
  assert.deepEqual(m.nextKey(12345), u32(100), 'a missing key restarts the walk');
  assert.equal(errnoOf(() => m.delete(6)), 'ENOENT');
  m.delete(9);
  assert.equal(m.target(9), undefined);
  assert.equal(m.target(5), 7);
  m.close();
});

test('kernel: devmap_hash walk order matches Linux', { skip: KSKIP }, () => {
  const path = `${BPFFS}/tsbpf_devmaph_${process.pid}`;
  rmSync(path, { force: true });
  const keys = [5, 1, 9, 100, 13, 2, 7, 66];
  try {
    const c = bpftool(['map', 'create', path, 'type', 'devmap_hash', 'key', '4', 'value', '4', 'entries', '8', 'name', 't']);
    assert.equal(c.errno, undefined);
    const m = make<DevMapHash>(spec('devmap_hash', 4, 4, 8), ctx(1, { devices: devices(1) }));
    for (const k of keys) {
      assert.equal(bpftool(['map', 'update', 'pinned', path, 'key', ...[...u32(k)].map(String), 'value', '1', '0', '0', '0']).errno, undefined);
      m.set(k, 1);
    }
    bpftool(['map', 'delete', 'pinned', path, 'key', '1', '0', '0', '0']);
    m.delete(1);
    bpftool(['map', 'update', 'pinned', path, 'key', '5', '0', '0', '0', 'value', '1', '0', '0', '0']);
    m.set(5, 1);
    const dump = bpftool(['map', 'dump', 'pinned', path]).value as Array<{ key: string[] }>;
    const kernelOrder = dump.map((e) => parseInt(e.key[0]!, 16) | (parseInt(e.key[1]!, 16) << 8));
    const ours = [...m.keys()].map((k) => new DataView(k.buffer).getUint32(0, true));
    assert.deepEqual(ours, kernelOrder);
    m.close();
  } finally {
    rmSync(path, { force: true });
  }
});

let objDir: string | undefined;
function buildObject(): string {
  objDir ??= mkdtempSync(join(tmpdir(), 'tsbpf-devmap-'));
  const obj = join(objDir, 'xdp_tap.o');
  execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', MULTIARCH_INCLUDE, '-c', join(ROOT, 'test/tap-progs/xdp_tap.c'), '-o', obj], { stdio: 'pipe' });
  return obj;
}
process.on('exit', () => {
  if (objDir) rmSync(objDir, { recursive: true, force: true });
});

/** bytes 14..21 key, 22..29 flags, 30 which map (0: tx_port devmap, 1: tx_hash) */
function argsPacket(key: bigint, flags: bigint, which: number): Uint8Array {
  const p = new Uint8Array(64);
  const dv = new DataView(p.buffer);
  dv.setBigUint64(14, key, true);
  dv.setBigUint64(22, flags, true);
  p[30] = which;
  return p;
}

/** [key, flags, map, retval on Linux 6.18 with tx_port[0] = lo and tx_hash[9] = lo] */
const REDIRECT_CASES: Array<[bigint, bigint, number, number]> = [
  [0n, 0n, 0, 4],
  [1n, 0n, 0, 0], // missing: the flags' low bits (XDP_ABORTED)
  [1n, 2n, 0, 2], // missing: XDP_PASS
  [5n, 3n, 0, 3], // past max_entries: XDP_TX
  [0x100000000n, 2n, 0, 4], // the key is truncated to u32: index 0
  [0x100000001n, 2n, 0, 2],
  [0n, 0x20n, 0, 0], // unknown flag: XDP_ABORTED
  [1n, 0x8n, 0, 4], // BPF_F_BROADCAST redirects even without the key
  [1n, 0x18n, 0, 4],
  [9n, 0n, 1, 4], // devmap_hash: keys are not bounded by max_entries
  [10n, 1n, 1, 1],
  [0x100000009n, 2n, 1, 4],
];

test('bpf_redirect_map return values in test runs (devmap and devmap_hash)', { skip: CLANG_SKIP }, async () => {
  const rt = new Runtime();
  try {
    const coll = await loadCollectionFile(buildObject(), rt, { programs: ['redirect_args', 'devmap_lookup'] });
    coll.map('tx_port').set(0, 1);
    coll.map('tx_hash').set(9, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
    const prog = coll.program('redirect_args');
    for (const [key, flags, which, want] of REDIRECT_CASES) {
      const r = prog.run({ data: argsPacket(key, flags, which) });
      assert.equal(r.retval, want, `key 0x${key.toString(16)} flags 0x${flags.toString(16)} map ${which}`);
      if (want === 4) {
        assert.equal(r.redirect?.helper, 'redirect_map');
        assert.equal(r.redirect?.key, Number(key & 0xffffffffn));
      } else assert.equal(r.redirect, undefined);
    }
    // A program's lookup sees struct bpf_devmap_val.
    const look = coll.program('devmap_lookup');
    const lp = (key: number, which: number): Uint8Array => {
      const p = new Uint8Array(64);
      new DataView(p.buffer).setUint32(14, key, true);
      p[18] = which;
      return p;
    };
    assert.equal(look.run({ data: lp(0, 0) }).retval, 1);
    assert.equal(look.run({ data: lp(1, 0) }).retval, 0xdead);
    assert.equal(look.run({ data: lp(9, 1) }).retval, 1);
    assert.equal(look.run({ data: lp(3, 1) }).retval, 0xdead);
    // The runtime checks updates against its devices (lo only here).
    assert.equal(errnoOf(() => coll.map('tx_port').set(1, 77)), 'EINVAL');
    coll.close();
  } finally {
    rt.close();
  }
});

test('kernel: bpf_redirect_map return values match Linux', { skip: KSKIP ?? CLANG_SKIP }, () => {
  const dir = `${BPFFS}/tsbpf_devmap_prog_${process.pid}`;
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-devmap-pkt-'));
  try {
    execFileSync('bpftool', ['prog', 'loadall', buildObject(), dir, 'pinmaps', `${dir}/maps`], { stdio: 'pipe' });
    assert.equal(bpftool(['map', 'update', 'pinned', `${dir}/maps/tx_port`, 'key', '0', '0', '0', '0', 'value', '1', '0', '0', '0']).errno, undefined);
    assert.equal(bpftool(['map', 'update', 'pinned', `${dir}/maps/tx_hash`, 'key', '9', '0', '0', '0', 'value', '1', '0', '0', '0', '0', '0', '0', '0']).errno, undefined);
    for (const [key, flags, which, want] of REDIRECT_CASES) {
      const f = join(tmp, 'pkt');
      writeFileSync(f, argsPacket(key, flags, which));
      const r = bpftool(['prog', 'run', 'pinned', `${dir}/redirect_args`, 'data_in', f]);
      assert.equal((r.value as { retval: number }).retval, want, `kernel: key 0x${key.toString(16)} flags 0x${flags.toString(16)} map ${which}`);
    }
  } finally {
    spawnSync('rm', ['-rf', dir, tmp]);
  }
});

test('devmap pins keep their entries and reopen only where the devices exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-devmap-pin-'));
  try {
    const m = make<DevMapHash>(spec('devmap_hash', 4, 4, 4), ctx(1, { devices: devices(7) }));
    m.set(3, 7);
    m.set(9, 7);
    const path = join(dir, 'dm');
    pinMap(m, path);
    const again = openPinnedMap(path, ctx(1, { devices: devices(7) }));
    assert.ok(again instanceof DevMapHash);
    assert.equal(again.flags, 0x80);
    assert.deepEqual([...again.keys()], [...m.keys()]);
    assert.equal((again as DevMapHash).target(9), 7);
    assert.throws(() => openPinnedMap(path, ctx(1, { devices: devices(1) })), (e: unknown) => (e as { errno?: string }).errno === 'EINVAL');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
