import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadBtfAndExt, parseBtfExt, formatWithLines, funcSignature, BtfError, type BtfExt, type Btf } from '../src/object/btf/index.js';
import { parseElf } from '../src/object/elf.js';
import { decode, type Insn } from '../src/isa/insn.js';
import { ROOT } from './paths.js';
import { isRoot as isRootUser, which } from './support/tools.js';

const FIX = resolve(ROOT, 'test/fixtures-btf');

function open(name: string): { btf: Btf; ext: BtfExt; sections: Map<string, Insn[]> } {
  const bytes = new Uint8Array(readFileSync(`${FIX}/${name}`));
  const { btf, ext } = loadBtfAndExt(bytes);
  assert.ok(ext, `${name} has .BTF.ext`);
  const elf = parseElf(bytes);
  const sections = new Map<string, Insn[]>();
  for (const s of elf.sections) if (s.flags & 0x4) sections.set(s.name, decode(s.data, elf.endian));
  return { btf, ext, sections };
}

test('func_info names each function start; line_info points at the source text', () => {
  for (const obj of ['lines.o', 'lines.be.o', 'kinds.o']) {
    const { btf, ext, sections } = open(obj);
    const src = readFileSync(`${FIX}/${obj.replace(/(\.be)?\.o$/, '.c')}`, 'utf8').split('\n');
    for (const [name, sec] of ext.sections) {
      const insns = sections.get(name);
      assert.ok(insns, `${obj}: BTF.ext section ${name} is an executable section`);
      for (const f of sec.funcInfo) {
        assert.ok(f.insnOff < insns.length);
        assert.equal(btf.typeById(f.typeId).kind, 'func');
      }
      assert.ok(sec.lineInfo.length > 0);
      for (const l of sec.lineInfo) {
        assert.ok(l.insnOff < insns.length, `${obj} ${name}: line_info beyond the section`);
        assert.equal(l.fileName.replace(/^.*\//, ''), obj.replace(/(\.be)?\.o$/, '.c'));
        // the recorded line is the source text of line lineNum
        assert.equal(l.line, src[l.lineNum - 1], `${obj} ${name} line ${l.lineNum}`);
        assert.ok(l.lineCol <= (src[l.lineNum - 1]?.length ?? 0) + 1);
      }
    }
  }
  const { btf, ext } = open('lines.o');
  assert.deepEqual(
    ext.sections.get('.text')!.funcInfo.map((f) => funcSignature(btf, f.typeId)),
    ['int scale(int x, int by)', 'void bump()'],
  );
  assert.equal(funcSignature(btf, ext.sections.get('xdp')!.funcInfo[0]!.typeId), 'int lines_prog(struct xdp_md * ctx)');
});

test('corrupted BTF.ext is a typed error with the offset', () => {
  const bytes = new Uint8Array(readFileSync(`${FIX}/lines.o`));
  const elf = parseElf(bytes);
  const { btf } = loadBtfAndExt(bytes);
  const ext = elf.sections.find((s) => s.name === '.BTF.ext')!.data;
  assert.ok(parseBtfExt(ext, 'le', btf).sections.size > 0);
  const mut = (f: (b: Uint8Array, dv: DataView) => void): Uint8Array => {
    const b = ext.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  const rejects = (b: Uint8Array, offset: number, re: RegExp): void => {
    assert.throws(
      () => parseBtfExt(b, 'le', btf),
      (e: unknown) => e instanceof BtfError && e.offset === offset && re.test(e.reason),
    );
  };
  rejects(ext.subarray(0, 4), 0, /truncated header/);
  rejects(mut((b) => (b[0] = 1)), 0, /bad magic/);
  rejects(mut((_, dv) => dv.setUint32(4, 4, true)), 4, /header length/);
  rejects(mut((_, dv) => dv.setUint32(12, 1 << 30, true)), 8, /func_info .* exceeds/);
  const fiStart = 32 + new DataView(ext.buffer, ext.byteOffset).getUint32(8, true);
  rejects(mut((_, dv) => dv.setUint32(fiStart, 3, true)), fiStart, /record size 3/);
  rejects(mut((_, dv) => dv.setUint32(fiStart + 4, 0xfffffff, true)), fiStart + 4, /section name string offset/);
  rejects(mut((_, dv) => dv.setUint32(fiStart + 8, 0xffff, true)), fiStart + 8, /records for .* exceed/);
  rejects(mut((_, dv) => dv.setUint32(fiStart + 12, 3, true)), fiStart + 12, /not a multiple of 8/);
  rejects(mut((_, dv) => dv.setUint32(fiStart + 16, 99999, true)), fiStart + 16, /type id 99999/);
});

test('formatWithLines prints the function header, source lines and instructions as bpftool does', () => {
  const { btf, ext, sections } = open('lines.o');
  const sec = ext.sections.get('xdp')!;
  const insns = sections.get('xdp')!;
  const out = formatWithLines(insns, { btf, ...sec }, (i) => `insn${i}`);
  const lines = out.split('\n');
  assert.equal(lines[0], 'int lines_prog(struct xdp_md * ctx):');
  assert.equal(lines[1], '; int v = scale(hits, 3);');
  assert.equal(lines[2], '   0: (' + insns[0]!.code.toString(16).padStart(2, '0') + ') insn0');
  assert.ok(!out.includes(';\t'), 'leading whitespace of source lines is trimmed');
  const lddw = insns.findIndex((x) => x.code === 0x18);
  assert.ok(lddw >= 0 && !out.includes(`insn${lddw + 1}\n`), 'the second slot of lddw is not printed');
  const linum = formatWithLines(insns, { btf, ...sec }, (i) => `insn${i}`, { linum: true });
  assert.match(linum, /; int v = scale\(hits, 3\); \[file:(\.\/)?lines\.c line_num:\d+ line_col:\d+\]\n/);
});

const isRoot = isRootUser();
const bpftool = which('bpftool');
test(
  'formatWithLines equals `bpftool prog dump xlated [linum]` of the same program loaded in Linux',
  { skip: (!isRoot && 'needs root') || (!bpftool && 'bpftool not installed') || (!existsSync('/sys/fs/bpf') && 'no bpffs') },
  (t) => {
    spawnSync('sh', ['-c', 'mount | grep -q " /sys/fs/bpf " || mount -t bpf bpf /sys/fs/bpf']);
    const pin = `/sys/fs/bpf/tsbpf-btf-ext-${process.pid}`;
    rmSync(pin, { force: true });
    const load = spawnSync('bpftool', ['prog', 'load', `${FIX}/lines.o`, pin], { encoding: 'utf8' });
    if (load.status !== 0) {
      t.skip(`kernel refused the program: ${load.stderr.trim()}`);
      return;
    }
    try {
      const { btf, ext, sections } = open('lines.o');
      // libbpf appends the subprograms of .text after the entry program
      const main = sections.get('xdp')!;
      const text = sections.get('.text')!;
      const insns = [...main, ...text];
      const shift = <T extends { insnOff: number }>(l: readonly T[], by: number): T[] => l.map((x) => ({ ...x, insnOff: x.insnOff + by }));
      const funcInfo = [...ext.sections.get('xdp')!.funcInfo, ...shift(ext.sections.get('.text')!.funcInfo, main.length)];
      const lineInfo = [...ext.sections.get('xdp')!.lineInfo, ...shift(ext.sections.get('.text')!.lineInfo, main.length)];
      for (const linum of [false, true]) {
        const args = ['prog', 'dump', 'xlated', 'pinned', pin, ...(linum ? ['linum'] : [])];
        const theirs = spawnSync('bpftool', args, { encoding: 'utf8' }).stdout;
        const text: string[] = [];
        for (const m of theirs.matchAll(/^ *(\d+): \([0-9a-f]{2}\) (.*)$/gm)) text[Number(m[1])] = m[2]!;
        assert.equal(text.length, insns.length - (insns[insns.length - 2]?.code === 0x18 ? 1 : 0), 'the kernel did not rewrite the program length');
        const ours = formatWithLines(insns, { btf, funcInfo, lineInfo }, (i) => text[i] ?? '?', { linum });
        assert.equal(ours, theirs);
      }
    } finally {
      rmSync(pin, { force: true });
    }
  },
);
