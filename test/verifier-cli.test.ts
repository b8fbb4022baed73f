/**
 * `tsbpf prog load`: the verifier sees what the kernel's sees, CO-RE
 * relocations applied first (libbpf's bpf_object__relocate_core runs before
 * BPF_PROG_LOAD), against tsbpf's own types or `--kernel-btf FILE`
 * (bpftool's kernel_btf). A relocation the target cannot satisfy fails that
 * program only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT } from './paths.js';
import { Btf } from '../src/object/btf/btf.js';
import { loadBtfFile } from '../src/object/btf/file.js';
import { contextBtf } from '../src/object/btf/context.js';
import { btfSubset } from '../src/object/btf/subset.js';

const CORE_CTX = join(ROOT, 'test/fixtures-btf/core_ctx.o');
const VMLINUX = '/sys/kernel/btf/vmlinux';

function tsbpf(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('prog load verifies CO-RE-relocated code: struct xdp_md offsets moved to the target layout', () => {
  // core_ctx.c reads xdp_md through a local flavour with data at +8 and data_end at +4;
  // the kernel's (and tsbpf's) layout has data at +0.
  const r = tsbpf('prog', 'load', CORE_CTX, 'xdp_core', '--log-level', '2');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /\(61\) r\d = \*\(u32 \*\)\(r1 \+0\)\s+; R1=ctx\(\) R\d=pkt\(r=0\)/);
  assert.doesNotMatch(r.out, /\(r1 \+8\)/);
  assert.match(r.out, /xdp_core: accepted/);
});

/** A target BTF with xdp_md and pt_regs but no task_struct (tsbpf's shipped types have it), as a --kernel-btf file. */
function targetWithoutTask(): string {
  const f = join(mkdtempSync(join(tmpdir(), 'tsbpf-vcli-')), 'no-task.btf');
  writeFileSync(f, btfSubset(contextBtf(), ['struct xdp_md', 'struct pt_regs']).encode('le'));
  return f;
}

test('prog load: a CO-RE relocation the target lacks is poisoned and rejected where reached; the others still load', (t) => {
  const target = targetWithoutTask();
  t.after(() => rmSync(join(target, '..'), { recursive: true, force: true }));
  const load = (...args: string[]) => tsbpf(...args, '--kernel-btf', target);
  const r = load('prog', 'load', CORE_CTX);
  assert.equal(r.code, 1);
  assert.match(r.out, /xdp_core: accepted/);
  assert.match(r.out, /task_core: rejected \(EINVAL\)\n.*CO-RE relocation .* was poisoned/);
  assert.match(r.out, /kernel: invalid func unknown#195896080/);
  const j = load('prog', 'load', CORE_CTX, '-j');
  const rows = JSON.parse(j.out) as Array<{ name: string; accepted: boolean; error?: { errno: string } }>;
  assert.deepEqual(rows.map((x) => [x.name, x.accepted, x.error?.errno]), [['xdp_core', true, undefined], ['task_core', false, 'EINVAL']]);
  // -d: libbpf's relocation lines on stderr, as bpftool -d prints them
  const d = load('prog', 'load', CORE_CTX, 'task_core', '-d');
  assert.match(d.err, /^libbpf: prog 'task_core': relo #\d+: <byte_off> \[\d+\] struct task_struct\.tgid \(0:1 @ offset 4\)$/m);
  assert.match(d.err, /^libbpf: prog 'task_core': relo #\d+: substituting insn #1 w\/ invalid insn$/m);
});

test('prog load --kernel-btf: relocations against the running kernel\'s BTF', { skip: existsSync(VMLINUX) ? false : `${VMLINUX} is missing` }, () => {
  const vmlinux: Btf = loadBtfFile(new Uint8Array(readFileSync(VMLINUX)));
  const task = vmlinux.typeByName('task_struct', 'struct');
  assert.ok(task && task.kind === 'struct');
  const tgid = task.members.find((m) => m.name === 'tgid')!;
  const r = tsbpf('prog', 'load', CORE_CTX, 'task_core', '--kernel-btf', VMLINUX, '--log-level', '2');
  assert.equal(r.code, 0, r.out + r.err);
  // BPF_CORE_READ(t, tgid): the field offset is this kernel's, added before bpf_probe_read_kernel
  assert.match(r.out, new RegExp(`r1 = ${tgid.bitOffset / 8}\\b`));
  assert.match(r.out, /task_core: accepted/);
});
