import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { resolve, join } from 'node:path';
import { Btf, dumpRaw, dumpRawJson, dumpC, toJson, loadBtfFile, formatRawType } from '../src/object/btf/index.js';
import { ROOT, BIN } from './paths.js';
import { which } from './support/tools.js';

const FIX = resolve(ROOT, 'test/fixtures-btf');
const FIXTURES = ['kinds', 'core', 'lines'];
const VMLINUX = '/sys/kernel/btf/vmlinux';

const bpftool = which('bpftool');

function bpftoolOut(args: string[]): string {
  const r = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, `bpftool ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Compare line by line so a failure shows the first differing line, not a 5 MB blob. */
function sameLines(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++)
    if (a[i] !== e[i]) assert.fail(`${what}: line ${i + 1} differs\n  ours:    ${a[i]}\n  bpftool: ${e[i]}`);
}

const load = (name: string): Btf => loadBtfFile(new Uint8Array(readFileSync(`${FIX}/${name}`)));

test('raw, JSON and C dumps equal the bpftool output recorded when the fixtures were built', () => {
  for (const f of FIXTURES) {
    for (const obj of [`${f}.o`, `${f}.be.o`]) {
      const btf = load(obj);
      sameLines(dumpRaw(btf), readFileSync(`${FIX}/${f}.raw.txt`, 'utf8'), `${obj} raw`);
      sameLines(dumpC(btf), readFileSync(`${FIX}/${f}.c.txt`, 'utf8'), `${obj} format c`);
      assert.equal(toJson(dumpRawJson(btf)) + '\n', readFileSync(`${FIX}/${f}.json.txt`, 'utf8'), `${obj} -j`);
    }
  }
});

test('dumps equal live bpftool output on the fixtures', { skip: !bpftool && 'bpftool not installed' }, () => {
  for (const f of FIXTURES) {
    const btf = load(`${f}.o`);
    sameLines(dumpRaw(btf), bpftoolOut(['btf', 'dump', 'file', `${FIX}/${f}.o`]), `${f} raw`);
    sameLines(dumpC(btf), bpftoolOut(['btf', 'dump', 'file', `${FIX}/${f}.o`, 'format', 'c']), `${f} c`);
  }
});

test(
  'the kernel BTF dumps exactly as bpftool prints it (raw and C)',
  { skip: (!bpftool && 'bpftool not installed') || (!existsSync(VMLINUX) && `no ${VMLINUX}`) },
  () => {
    const btf = Btf.parse(new Uint8Array(readFileSync(VMLINUX)));
    sameLines(dumpRaw(btf), bpftoolOut(['btf', 'dump', 'file', VMLINUX]), 'vmlinux raw');
    sameLines(dumpC(btf), bpftoolOut(['btf', 'dump', 'file', VMLINUX, 'format', 'c']), 'vmlinux format c');
  },
);

test('the C dump of the kinds fixture shows the layouts bpftool derives', () => {
  const c = dumpC(load('kinds.o'));
  // spot checks of the hard cases: bitfields, qualifiers, tags, restrict, arrays of arrays, function pointers, packing, fwd
  for (const line of [
    '\tunsigned long long d: 40;',
    '\tvolatile const int cv;',
    '\tint __attribute__((btf_type_tag("user"))) *up;',
    '\tchar * restrict rp;',
    '\tint matrix[2][3];',
    '\tint (*fn)(int, char *);',
    '} __attribute__((packed));',
    'struct opaque;',
    'union opaque_u;',
    '\tSBIG_A = -1LL,',
    '\tBIG_B = 18446744069414584320ULL,',
  ])
    assert.ok(c.includes(line), `missing ${JSON.stringify(line)}`);
  assert.ok(c.startsWith('#ifndef __VMLINUX_H__\n'));
  assert.ok(c.endsWith('#endif /* __VMLINUX_H__ */\n'));
});

test('C dump adds explicit padding and names duplicate types as libbpf does', () => {
  const int = { id: 1, kind: 'int' as const, name: 'int', size: 4, bits: 32, offset: 0, encoding: { signed: true, char: false, bool: false } };
  const char = { id: 2, kind: 'int' as const, name: 'char', size: 1, bits: 8, offset: 0, encoding: { signed: true, char: false, bool: false } };
  const btf = Btf.fromTypes([
    int,
    char,
    // struct s { char c; <gap>; int x at byte 8 } with size 16: needs explicit padding
    { id: 3, kind: 'struct', name: 's', size: 16, kindFlag: false, members: [{ name: 'c', typeId: 2, bitOffset: 0, bitfieldSize: 0 }, { name: 'x', typeId: 1, bitOffset: 64, bitfieldSize: 0 }] },
    // a second, different struct s
    { id: 4, kind: 'struct', name: 's', size: 4, kindFlag: false, members: [{ name: 'y', typeId: 1, bitOffset: 0, bitfieldSize: 0 }] },
    { id: 5, kind: 'enum', name: '', size: 4, signed: false, values: [{ name: 'ANON_A', value: 1 }] },
  ]);
  const c = dumpC(btf);
  // `long: 0;` forces the next member (and the end) to the 8-byte boundary the BTF says they are at
  assert.match(c, /struct s \{\n\tchar c;\n\tlong: 0;\n\tint x;\n\tlong: 0;\n\};/);
  assert.match(c, /struct s___2 \{\n\tint y;\n\};/);
  assert.match(c, /enum \{\n\tANON_A = 1,\n\};/);
  if (bpftool) {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-'));
    try {
      writeFileSync(join(dir, 'pad.btf'), btf.encode());
      sameLines(c, bpftoolOut(['btf', 'dump', 'file', join(dir, 'pad.btf'), 'format', 'c']), 'hand-built format c');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('raw lines for hand-built types of every kind', () => {
  const btf = Btf.fromTypes([
    { id: 1, kind: 'int', name: 'u8', size: 1, bits: 8, offset: 0, encoding: { signed: false, char: true, bool: false } },
    { id: 2, kind: 'func_proto', name: '', returnTypeId: 0, params: [{ name: 'a', typeId: 1 }, { name: '', typeId: 0 }] },
    { id: 3, kind: 'func', name: 'f', typeId: 2, linkage: 'extern' },
    { id: 4, kind: 'var', name: 'v', typeId: 1, linkage: 'extern' },
    { id: 5, kind: 'datasec', name: '.ksyms', size: 0, vars: [{ typeId: 3, offset: 0, size: 0 }] },
  ]);
  assert.equal(formatRawType(btf, btf.typeById(1)), "[1] INT 'u8' size=1 bits_offset=0 nr_bits=8 encoding=CHAR");
  assert.equal(formatRawType(btf, btf.typeById(2)), "[2] FUNC_PROTO '(anon)' ret_type_id=0 vlen=2\n\t'a' type_id=1\n\t'(anon)' type_id=0");
  assert.equal(formatRawType(btf, btf.typeById(3)), "[3] FUNC 'f' type_id=2 linkage=extern");
  assert.equal(formatRawType(btf, btf.typeById(4)), "[4] VAR 'v' type_id=1, linkage=extern");
  assert.equal(formatRawType(btf, btf.typeById(5)), "[5] DATASEC '.ksyms' size=0 vlen=1\n\ttype_id=3 offset=0 size=0 (FUNC 'f')");
  assert.match(dumpC(btf), /^#ifndef __VMLINUX_H__/);
});

test('tsbpf btf dump prints what bpftool prints, and reports bad files as typed errors', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'btf', 'dump', ...args], { encoding: 'utf8' });
  const raw = run(`${FIX}/kinds.o`);
  assert.equal(raw.status, 0, raw.stderr);
  assert.equal(raw.stdout, readFileSync(`${FIX}/kinds.raw.txt`, 'utf8'));
  const c = run('file', `${FIX}/lines.o`, 'format', 'c');
  assert.equal(c.stdout, readFileSync(`${FIX}/lines.c.txt`, 'utf8'));
  const j = run(`${FIX}/core.o`, '-j');
  assert.equal(j.stdout, readFileSync(`${FIX}/core.json.txt`, 'utf8'));
  const bad = run(`${FIX}/kinds.c`);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /BTF at offset 0: bad magic .*\(EINVAL\)/);
  const usage = run(`${FIX}/kinds.o`, 'format', 'xml');
  assert.equal(usage.status, 2);
});
