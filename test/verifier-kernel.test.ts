/**
 * The kernel as oracle: each case of test/verifier-cases.ts is built with
 * clang-19 (the assembly inside a naked function, as the kernel's selftests
 * write them), loaded with bpftool into the running kernel, and the
 * kernel's verdict and message are compared with the recorded expectation
 * and with tsbpf's verdict on the very same object file.
 *
 * Needs root, clang-19 and bpftool; skips with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { CASES, caseToC, kernelLoad } from './verifier-cases.js';

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'not root: cannot load programs into the kernel';
  if (!which('clang-19')) return 'clang-19 not installed';
  if (!which('bpftool')) return 'bpftool not installed';
  if (!existsSync('/usr/include/bpf/bpf_helpers.h')) return 'libbpf-dev headers not installed';
  return false;
}

const reason = skipReason();
test('verdicts agree with the running kernel on every case', { skip: reason }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vk-'));
  spawnSync('sh', ['-c', 'mount | grep -q " /sys/fs/bpf " || mount -t bpf bpf /sys/fs/bpf']);
  const problems: string[] = [];
  try {
    for (const c of CASES) {
      const src = join(dir, `${c.name}.c`), obj = join(dir, `${c.name}.o`);
      writeFileSync(src, caseToC(c));
      const cc = spawnSync('clang-19', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', src, '-o', obj], { encoding: 'utf8' });
      if (cc.status !== 0) {
        problems.push(`${c.name}: clang failed: ${cc.stderr.split('\n').slice(0, 3).join(' ')}`);
        continue;
      }
      const k = kernelLoad(obj, `/sys/fs/bpf/tsbpf_vk_${process.pid}`);
      const coll = loadObjectFileSync(obj);
      const prog = coll.programs.get(c.name)!;
      const ours = verify(inputFromSpec(coll, prog));
      if (k.accepted !== c.accept) problems.push(`${c.name}: recorded ${c.accept ? 'accept' : 'reject'}, kernel ${k.accepted ? 'accepts' : `rejects: ${k.message}`}`);
      if (ours.ok !== k.accepted) problems.push(`${c.name}: kernel ${k.accepted ? 'accepts' : `rejects (${k.message})`}, tsbpf ${ours.ok ? 'accepts' : `rejects (${ours.error?.kernelMessage})`}`);
      if (!k.accepted && c.msg && !k.message.includes(c.msg)) problems.push(`${c.name}: kernel message '${k.message}' lacks '${c.msg}'`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(problems, []);
});
