import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, rmSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadBtfFile, decodeValue, encodeValue, formatValue, formatJson, formatMapDump, BtfValueError, Btf, type BtfValue } from '../src/object/btf/index.js';
import { TsbpfError } from '../src/errors.js';
import { ROOT } from './paths.js';
import { isRoot as isRootUser, which } from './support/tools.js';

const FIX = resolve(ROOT, 'test/fixtures-btf');
const btf = loadBtfFile(new Uint8Array(readFileSync(`${FIX}/kinds.o`)));
const btfBe = loadBtfFile(new Uint8Array(readFileSync(`${FIX}/kinds.be.o`)));
const id = (b: Btf, name: string, kind: 'struct' | 'union' | 'typedef' | 'enum'): number => b.typeByName(name, kind)!.id;

/** The key and value the recorded `bpftool map dump` (kinds.mixed-dump.txt) was made from. */
const KEY = { a: 5, b: 17, c: -3, d: 123456789n, e: true, name: 'hi' };
const VALUE = {
  count: 18446744073709551600n,
  small: -5,
  col: 'BLUE',
  ng: 'NEG_A',
  big: 7,
  fl: KEY,
  u: { w: 4294906420, b: [52, 18, 255, 255], lo: 4660, hi: -1 },
  op: 57005n,
  matrix: [[-2, -1, 0], [1, 2, 3]],
  name: 'abc',
  b: true,
  mac: [0, 27, 33, 255, 127, 128],
  sll: -9n,
  wide: 0x5ffffffffffffffffn,
};
const KEY_HEX = '8dfd8ae6ad0300016869000000000000';
const VALUE_HEX =
  'f0fffffffffffffffb0000000a000000fdffffff0000000007000000000000008dfd8ae6ad03000168690000000000003412ffff00000000adde000000000000feffffffffffffff00000000010000000200000003000000616263000000000001001b21ff7f8000f7ffffffffffffffffffffffffffffff0500000000000000';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('encode produces the bytes the kernel holds for a value; decode gives the object back', () => {
  const k = encodeValue(btf, id(btf, 'flags', 'struct'), KEY);
  const v = encodeValue(btf, id(btf, 'mixed', 'struct'), VALUE);
  assert.equal(hex(k), KEY_HEX);
  assert.equal(hex(v), VALUE_HEX);
  assert.deepEqual(decodeValue(btf, id(btf, 'flags', 'struct'), k), KEY);
  assert.deepEqual(decodeValue(btf, id(btf, 'mixed', 'struct'), v), VALUE);
});

test('big-endian BTF round-trips too, with the big-endian bitfield layout', () => {
  const vid = id(btfBe, 'mixed', 'struct');
  // members of a union are written in order; give one so the others follow from it
  const v = encodeValue(btfBe, vid, { ...VALUE, u: { w: 0x01020304 } });
  assert.equal(v.length, 128);
  assert.deepEqual(decodeValue(btfBe, vid, v), { ...VALUE, u: { w: 0x01020304, b: [1, 2, 3, 4], lo: 0x0102, hi: 0x0304 } });
  // the count is stored most significant byte first
  assert.equal(hex(v.subarray(0, 8)), 'fffffffffffffff0');
  // bitfield a (3 bits at bit 0) sits in the top bits of the first byte for big-endian
  const k = encodeValue(btfBe, id(btfBe, 'flags', 'struct'), { ...KEY, b: 0, c: 0, d: 0n });
  assert.equal(k[0]! >> 5, 5);
});

test('every field type round-trips: floats, unions, signed enums, enum64, packed structs', () => {
  const vid = id(btf, 'value', 'struct');
  const value: BtfValue = {
    count: 1n,
    small: -128,
    cv: -2147483648,
    f: 1.5,
    d: -2.25,
    col: 'GREEN',
    big: 'BIG_B',
    fl: { a: 7, b: 31, c: -64, d: (1n << 40n) - 1n, e: false, name: 'abcdef' },
    u: { w: 0, b: [0, 0, 0, 0], lo: 0, hi: 0 },
    op: 0n,
    opu: 0xffffffffffffffffn,
    up: 8n,
    rp: 16n,
    matrix: [[1, 2, 3], [4, 5, 6]],
    fn: 0n,
  };
  const bytes = encodeValue(btf, vid, value);
  assert.equal(bytes.length, 136);
  assert.deepEqual(decodeValue(btf, vid, bytes), value);
  const pid = id(btf, 'packed_s', 'struct');
  const p = encodeValue(btf, pid, { c: 65, i: -1 });
  assert.equal(hex(p), '41ffffffff');
  assert.deepEqual(decodeValue(btf, pid, p), { c: 65, i: -1 });
  // a union written through one member reads back through the others
  const uid = id(btf, 'both', 'union');
  const u = encodeValue(btf, uid, { w: 0x01020304 });
  assert.deepEqual(decodeValue(btf, uid, u), { w: 0x01020304, b: [4, 3, 2, 1], lo: 0x0304, hi: 0x0102 });
});

test('wrong shapes are typed errors naming the path', () => {
  const vid = id(btf, 'mixed', 'struct');
  const bad = (v: unknown, path: RegExp): void => {
    assert.throws(
      () => encodeValue(btf, vid, v as BtfValue),
      (e: unknown) => e instanceof BtfValueError && e instanceof TsbpfError && e.errno === 'EINVAL' && path.test(e.message),
    );
  };
  bad({ ...VALUE, small: 128 }, /value\.small: 128 does not fit in 8 signed bits/);
  bad({ ...VALUE, small: 1.5 }, /value\.small: expected an integer/);
  bad({ ...VALUE, col: 'PURPLE' }, /value\.col: 'PURPLE' is not an enumerator of enum color/);
  bad({ ...VALUE, matrix: [[1, 2, 3]] }, /value\.matrix: expected 2 elements, got 1/);
  bad({ ...VALUE, name: 'way too long' }, /value\.name: string of 12 bytes does not fit char\[8\]/);
  bad({ ...VALUE, mac: 'abc' }, /value\.mac: a string is only accepted for a char array/);
  bad({ ...VALUE, fl: { ...KEY, a: 8 } }, /value\.fl\.a: 8 does not fit in 3 unsigned bits/);
  bad({ ...VALUE, extra: 1 }, /value\.extra: no such member in struct mixed/);
  const { count: _c, ...missing } = VALUE;
  void _c;
  bad(missing, /value\.count: missing member of struct mixed/);
  bad([1, 2], /value: expected an object for struct mixed, got an array/);
  bad({ ...VALUE, b: 'yes' }, /value\.b: expected a boolean/);
  // partial: missing members are zero
  const { count: _d, ...rest } = VALUE;
  void _d;
  const partial = encodeValue(btf, vid, rest, { partial: true });
  assert.equal((decodeValue(btf, vid, partial) as { count: bigint }).count, 0n);
  assert.throws(() => decodeValue(btf, vid, new Uint8Array(10)), BtfValueError);
});

test('formatValue renders values exactly as the recorded bpftool map dump', () => {
  const k = Buffer.from(KEY_HEX, 'hex');
  const v = Buffer.from(VALUE_HEX, 'hex');
  const text = formatMapDump([{ key: formatValue(btf, id(btf, 'flags', 'struct'), k), value: formatValue(btf, id(btf, 'mixed', 'struct'), v) }]);
  assert.equal(text, readFileSync(`${FIX}/kinds.mixed-dump.txt`, 'utf8'));
  // -j: hex values are quoted strings, pointers are numbers
  const j = formatJson(formatValue(btf, id(btf, 'mixed', 'struct'), v), { json: true, pretty: false });
  const parsed = JSON.parse(j) as Record<string, unknown>;
  assert.equal(parsed.op, 57005);
  assert.equal(parsed.wide, '0x5ffffffffffffffff');
  assert.equal((parsed.fl as Record<string, unknown>).c, '0x7d');
  // a NULL pointer prints as printf's %p does
  const z = formatJson(formatValue(btf, id(btf, 'mixed', 'struct'), new Uint8Array(128)), { json: false, pretty: false });
  assert.match(z, /"op":\(nil\)/);
  assert.match(z, /"name":""/);
});

const isRoot = isRootUser();
const bpftool = which('bpftool');
test(
  'formatValue equals live `bpftool map dump` after the kernel stores our encoded bytes',
  { skip: (!isRoot && 'needs root') || (!bpftool && 'bpftool not installed') || (!existsSync('/sys/fs/bpf') && 'no bpffs') },
  (t) => {
    spawnSync('sh', ['-c', 'mount | grep -q " /sys/fs/bpf " || mount -t bpf bpf /sys/fs/bpf']);
    const dir = `/sys/fs/bpf/tsbpf-btf-codec-${process.pid}`;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    try {
      const load = spawnSync('bpftool', ['prog', 'loadall', `${FIX}/kinds.o`, dir, 'pinmaps', `${dir}/maps`], { encoding: 'utf8' });
      if (load.status !== 0) {
        t.skip(`kernel refused the object: ${load.stderr.trim()}`);
        return;
      }
      const kid = id(btf, 'flags', 'struct');
      const vid = id(btf, 'mixed', 'struct');
      const entries = [
        { k: KEY, v: VALUE },
        { k: { a: 0, b: 0, c: 0, d: 0n, e: false, name: '' }, v: { ...VALUE, ng: 5, small: 127, op: 0n, name: '\u0001x', mac: [1, 2, 3, 4, 5, 6], big: 'BIG_B' } },
      ];
      for (const e of entries) {
        const bytes = (x: Uint8Array): string[] => Array.from(x, (b) => b.toString(16).padStart(2, '0'));
        const r = spawnSync('bpftool', ['map', 'update', 'pinned', `${dir}/maps/mixed`, 'key', 'hex', ...bytes(encodeValue(btf, kid, e.k)), 'value', 'hex', ...bytes(encodeValue(btf, vid, e.v))], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
      }
      const theirs = spawnSync('bpftool', ['map', 'dump', 'pinned', `${dir}/maps/mixed`], { encoding: 'utf8' }).stdout;
      // bpftool prints in hash order: compare as a set of entries
      const blocks = (s: string): string[] => s.replace(/^\[/, '').replace(/\n\]\n$/, '').split(/(?<=\n    }),(?=\{)/).sort();
      const ours = formatMapDump(
        entries.map((e) => ({ key: formatValue(btf, kid, encodeValue(btf, kid, e.k)), value: formatValue(btf, vid, encodeValue(btf, vid, e.v)) })),
      );
      assert.deepEqual(blocks(ours), blocks(theirs));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('global data (a datasec) formats as bpftool prints a .bss map', () => {
  const int = { id: 1, kind: 'int' as const, name: 'int', size: 4, bits: 32, offset: 0, encoding: { signed: true, char: false, bool: false } };
  const char = { id: 2, kind: 'int' as const, name: 'char', size: 1, bits: 8, offset: 0, encoding: { signed: true, char: false, bool: false } };
  const ds = Btf.fromTypes([
    int,
    char,
    { id: 3, kind: 'enum', name: 'neg', size: 4, signed: true, values: [{ name: 'NEG_A', value: -3 }] },
    { id: 4, kind: 'var', name: 'last_neg', typeId: 3, linkage: 'global' },
    { id: 5, kind: 'array', name: '', elemTypeId: 2, indexTypeId: 1, nelems: 4 },
    { id: 6, kind: 'var', name: 'bss_buf', typeId: 5, linkage: 'global' },
    { id: 7, kind: 'datasec', name: '.bss', size: 8, vars: [{ typeId: 4, offset: 0, size: 4 }, { typeId: 6, offset: 4, size: 4 }] },
  ]);
  const bytes = new Uint8Array(8);
  // recorded from `bpftool map dump` of a zeroed .bss with these variables
  assert.equal(
    formatMapDump([{ value: formatValue(ds, 7, bytes) }]),
    '[{\n        "value": {\n            ".bss": [{\n                    "last_neg": 0\n                },{\n                    "bss_buf": ""\n                }\n            ]\n        }\n    }\n]\n',
  );
  assert.deepEqual(decodeValue(ds, 7, encodeValue(ds, 7, { last_neg: 'NEG_A', bss_buf: 'ab' })), { last_neg: 'NEG_A', bss_buf: 'ab' });
});
