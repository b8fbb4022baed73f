/**
 * Section names against libbpf itself (issue 14, part 4): test/sections/bpf/sections.o holds one
 * program per section name — the names libbpf 1.x knows, and unknown and legacy ones (`test`,
 * `socket1`, `xdp_foo`, `classifier/ingress`, the SEC_SLOPPY_PFX forms that libbpf 1.0 dropped).
 * libbpf's bpf_object__open gave each a program type and expected attach type
 * (test/sections/libbpf-types.c, recorded in libbpf-types.txt; 0 = BPF_PROG_TYPE_UNSPEC, which
 * libbpf refuses to load). tsbpf's object reader must give the same, and refuse to load the
 * programs libbpf cannot type, with libbpf's words. Where gcc and libbpf-dev are present the
 * record is re-made from the live libbpf first, so it stays libbpf's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObjectFileSync } from '../src/object/file.js';
import { ProgType } from '../src/object/spec.js';
import { ATTACH_TYPE } from '../src/kernel/attr.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { TsbpfError } from '../src/errors.js';
import { ROOT } from './paths.js';
import { which } from './support/tools.js';

const DIR = join(ROOT, 'test/sections');
const OBJ = join(DIR, 'bpf/sections.o');

/** section -> "type attach" as libbpf-types prints them (sleepable and frags are applied by libbpf 1.1 at load, not open). */
function parse(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [sec, type, attach] = line.split('\t');
    out.set(sec!, `${type} ${attach}`);
  }
  return out;
}

const recorded = parse(readFileSync(join(DIR, 'libbpf-types.txt'), 'utf8'));

test('the record covers known and unknown section names', () => {
  assert.ok(recorded.size >= 80, `${recorded.size} sections`);
  const unspec = [...recorded.values()].filter((v) => v === '0 0').length;
  assert.ok(unspec >= 15 && unspec < recorded.size - 50, `${unspec} untyped`);
});

test('tsbpf types every program as libbpf\'s bpf_object__open does', () => {
  const coll = loadObjectFileSync(OBJ);
  const differ: string[] = [];
  const seen = new Set<string>();
  for (const p of coll.programs.values()) {
    // libbpf reports the section without the leading `?` (not autoloaded)
    const sec = p.section.replace(/^\?/, '');
    seen.add(sec);
    const got = `${ProgType[p.type]} ${p.attachType ? ATTACH_TYPE[p.attachType] : 0}`;
    const want = recorded.get(sec);
    if (want !== got) differ.push(`${p.section}: libbpf ${want}, tsbpf ${got} (${p.type} ${p.attachType ?? ''})`);
  }
  assert.deepEqual(differ, []);
  assert.deepEqual([...recorded.keys()].filter((s) => !seen.has(s)), [], 'every recorded section is a tsbpf program');
});

test('a program libbpf cannot type is refused at load, in libbpf\'s words', () => {
  const coll = loadObjectFileSync(OBJ);
  const p = [...coll.programs.values()].find((x) => x.section === 'socket1')!;
  assert.equal(p.type, 'unspec');
  assert.throws(() => inputFromSpec(coll, p), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL'
    && e.message.startsWith("prog 'u_socket1': missing BPF prog type, check ELF section name 'socket1'"));
  // and the typed ones next to it load
  const ok = [...coll.programs.values()].find((x) => x.section === 'lsm/file_open')!;
  assert.equal(inputFromSpec(coll, ok).progType, 'lsm');
});

test('the record is the live libbpf\'s, and the object is built from its source', (t) => {
  if (!which('gcc') || !existsSync('/usr/include/bpf/libbpf.h')) return t.skip('gcc or libbpf-dev is not installed');
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-sections-'));
  try {
    const exe = join(tmp, 'libbpf-types');
    const cc = spawnSync('gcc', ['-O2', '-o', exe, join(DIR, 'libbpf-types.c'), '-lbpf'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    let obj = OBJ;
    if (which('clang-19')) {
      const b = spawnSync('bash', [join(ROOT, 'scripts/build-verifier-c.sh'), tmp], { encoding: 'utf8', env: { ...process.env, SRC_DIR: join(DIR, 'bpf') } });
      assert.equal(b.status, 0, b.stderr);
      obj = join(tmp, 'sections.o');
    }
    const r = spawnSync(exe, [obj], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(parse(r.stdout), recorded);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
