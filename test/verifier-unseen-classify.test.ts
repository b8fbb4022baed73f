/**
 * The unseen-objects runner's classes (test/verifier-unseen.ts), given a kernel verdict: a
 * subset-mode disagreement that comes only from the CO-RE target (a type the subset lacks, so
 * bpf_core_type_size() is 0 there) is core-target-differs; one that stays after relocating
 * against the kernel's BTF is a DISAGREE. The kernel BTF here is real-progs' recorded one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MULTIARCH_INCLUDE, ROOT } from './paths.js';
import { which } from './support/tools.js';
import { loadObjectFileSync } from '../src/object/file.js';

process.env.TSBPF_UNSEEN_KERNEL_BTF = join(ROOT, 'test/real-progs/kernel.btf');
const { judgeRow } = await import('./verifier-unseen.js');
type Row = Parameters<typeof judgeRow>[0];

// struct rt_prio_array (the scheduler's) is in the recorded kernel BTF and not in tsbpf's shipped subset.
const SOURCE = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
struct rt_prio_array { int bitmap; } __attribute__((preserve_access_index));
SEC("socket") int size_guard(struct __sk_buff *skb)
{
	char buf[16];
	__u32 n = bpf_core_type_size(struct rt_prio_array);
	if (n > sizeof(buf))
		n = sizeof(buf);
	bpf_skb_load_bytes(skb, 0, buf, n);
	return buf[0];
}
char LICENSE[] SEC("license") = "GPL";
`;

const clang = which('clang-19') ? 'clang-19' : which('clang') ? 'clang' : undefined;
test('unseen runner: a verdict that differs only by the CO-RE target is core-target-differs', { skip: !clang && 'clang not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-unseen-classify-'));
  try {
    writeFileSync(join(dir, 'p.c'), SOURCE);
    const cc = spawnSync(clang!, ['-O2', '-g', '-target', 'bpf', MULTIARCH_INCLUDE, '-c', join(dir, 'p.c'), '-o', join(dir, 'p.o')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const coll = loadObjectFileSync(join(dir, 'p.o'));
    const row = (mode: Row['mode'], kernel: Row['kernel']): Row => ({
      mode, object: 'p.o', prog: 'size_guard', section: 'socket', kernel, kernelErrno: '-', kernelMsg: '-',
      tsbpf: 'unsupported', tsbpfErrno: '', tsbpfMsg: '', outcome: 'DISAGREE', timeUs: 0,
    });
    // The kernel accepts (its BTF has the type); tsbpf's subset gives size 0, a zero-sized read.
    const subset = row('subset', 'accept');
    judgeRow(subset, coll);
    assert.equal(subset.tsbpf, 'reject');
    assert.equal(subset.outcome, 'core-target-differs');
    assert.match(subset.coreNote!, /reject .* with the subset as CO-RE target, accept relocated against vmlinux/);
    const kernelBtf = row('kernel-btf', 'accept');
    judgeRow(kernelBtf, coll);
    assert.equal(kernelBtf.outcome, 'agree-accept');
    // Had the kernel rejected, relocating elsewhere would not explain it: a DISAGREE stays one.
    const other = row('subset', 'reject');
    judgeRow(other, coll);
    assert.equal(other.outcome, 'agree-reject');
    const stays = row('kernel-btf', 'reject');
    judgeRow(stays, coll);
    assert.equal(stays.outcome, 'DISAGREE');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
