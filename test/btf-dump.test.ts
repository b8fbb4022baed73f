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

test('with kfuncs, the C dump ends with a weak __ksym prototype of each tagged kfunc', () => {
  const btf = Btf.fromTypes([
    { id: 1, kind: 'int', name: 'int', size: 4, bits: 32, offset: 0, encoding: { signed: true, char: false, bool: false } },
    { id: 2, kind: 'struct', name: 'task_struct', size: 4, kindFlag: false, members: [{ name: 'pid', typeId: 1, bitOffset: 0, bitfieldSize: 0 }] },
    { id: 3, kind: 'ptr', name: '', typeId: 2 },
    { id: 4, kind: 'func_proto', name: '', returnTypeId: 3, params: [{ name: 'pid', typeId: 1 }] },
    { id: 5, kind: 'func', name: 'bpf_task_from_pid', typeId: 4, linkage: 'static' },
    { id: 6, kind: 'decl_tag', name: 'bpf_kfunc', typeId: 5, componentIdx: -1 },
    // a function without the tag, and a tag on a parameter: neither is a kfunc
    { id: 7, kind: 'func', name: 'not_a_kfunc', typeId: 4, linkage: 'static' },
    { id: 8, kind: 'decl_tag', name: 'bpf_kfunc', typeId: 7, componentIdx: 0 },
  ]);
  const plain = dumpC(btf);
  assert.doesNotMatch(plain, /__ksym/, 'off by default, as the bpftool this is compared with prints');
  const c = dumpC(btf, { kfuncs: true });
  assert.match(c, /#ifndef __ksym\n#define __ksym __attribute__\(\(section\("\.ksyms"\)\)\)\n#endif/);
  assert.match(c, /#ifndef BPF_NO_KFUNC_PROTOTYPES\nextern struct task_struct \*bpf_task_from_pid\(int pid\) __weak __ksym;\n#endif/);
  assert.doesNotMatch(c, /not_a_kfunc\(/);
  // the prototypes follow every type they use, inside the header's guard
  assert.ok(c.indexOf('struct task_struct {') < c.indexOf('extern struct task_struct'));
  assert.ok(c.endsWith('#endif /* __VMLINUX_H__ */\n'));
});

test('the kernel BTF dump with kfuncs compiles, and declares the kfuncs programs call', { skip: (!existsSync(VMLINUX) && `no ${VMLINUX}`) || (!which('clang-19') && !which('clang') && 'clang not installed') }, () => {
  const c = dumpC(loadBtfFile(new Uint8Array(readFileSync(VMLINUX))), { kfuncs: true });
  assert.match(c, /^extern struct task_struct \*bpf_task_from_pid\(s32 pid\) __weak __ksym;$/m);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kfuncs-'));
  try {
    writeFileSync(join(dir, 'vmlinux.h'), c);
    // a program that tests a kfunc with bpf_ksym_exists()'s idiom and calls it, with no declaration of its own
    writeFileSync(join(dir, 'p.c'), '#include "vmlinux.h"\nint f(int pid) { if (!&bpf_task_from_pid) return 0; struct task_struct *t = bpf_task_from_pid(pid); if (t) bpf_task_release(t); return t != 0; }\n');
    const r = spawnSync(which('clang-19') ? 'clang-19' : 'clang', ['-target', 'bpf', '-O2', '-c', join(dir, 'p.c'), '-o', join(dir, 'p.o')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
