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
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { CASES, caseToC, kernelLoad } from './verifier-cases.js';
import { MULTIARCH_INCLUDE, ROOT } from './paths.js';

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

/** Run clang on every source, a few at a time (the machine's cores, not one by one). */
async function compileAll(jobs: Array<{ src: string; obj: string }>, width = 4): Promise<Map<string, string | null>> {
  const errors = new Map<string, string | null>();
  let k = 0;
  const worker = async (): Promise<void> => {
    while (k < jobs.length) {
      const j = jobs[k++]!;
      const err = await new Promise<string | null>((res) => {
        const p = spawn('clang-19', ['-O2', '-g', '-target', 'bpf', MULTIARCH_INCLUDE, '-c', j.src, '-o', j.obj]);
        let e = '';
        p.stderr.on('data', (d: Buffer) => (e += d.toString()));
        p.on('close', (code) => res(code === 0 ? null : e.split('\n').slice(0, 3).join(' ')));
      });
      errors.set(j.src, err);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return errors;
}

const reason = skipReason();
test('verdicts agree with the running kernel on every case', { skip: reason }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vk-'));
  spawnSync('sh', ['-c', 'mount | grep -q " /sys/fs/bpf " || mount -t bpf bpf /sys/fs/bpf']);
  const problems: string[] = [];
  try {
    const jobs = CASES.map((c) => ({ c, src: join(dir, `${c.name}.c`), obj: join(dir, `${c.name}.o`) }));
    for (const j of jobs) writeFileSync(j.src, caseToC(j.c));
    const built = await compileAll(jobs);
    for (const { c, src, obj } of jobs) {
      const err = built.get(src);
      if (err) {
        problems.push(`${c.name}: clang failed: ${err}`);
        continue;
      }
      const k = kernelLoad(obj, `/sys/fs/bpf/tsbpf_vk_${process.pid}`);
      const coll = loadObjectFileSync(obj);
      const prog = coll.programs.get(c.name)!;
      const ours = verify(inputFromSpec(coll, prog));
      if (k.accepted !== c.accept) problems.push(`${c.name}: recorded ${c.accept ? 'accept' : 'reject'}, kernel ${k.accepted ? 'accepts' : `rejects: ${k.message}`}`);
      if (ours.ok !== k.accepted) problems.push(`${c.name}: kernel ${k.accepted ? 'accepts' : `rejects (${k.message})`}, tsbpf ${ours.ok ? 'accepts' : `rejects (${ours.error?.kernelMessage})`}`);
      if (!k.accepted && c.msg && !k.message.includes(c.msg)) problems.push(`${c.name}: kernel message '${k.message}' lacks '${c.msg}'`);
      if (!ours.ok && c.msg && !ours.error!.kernelMessage.includes(c.msg)) problems.push(`${c.name}: tsbpf message '${ours.error!.kernelMessage}' lacks '${c.msg}'`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(problems, []);
});

/** C programs (test/verifier-c/*.c): what the kernel accepts or rejects as a whole object, tsbpf must too. */
test('verdicts agree with the kernel on C programs compiled with clang-19', { skip: reason }, async () => {
  const srcDir = join(ROOT, 'test', 'verifier-c');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vkc-'));
  const problems: string[] = [];
  try {
    const jobs = readdirSync(srcDir).filter((f) => f.endsWith('.c')).map((f) => ({ src: join(srcDir, f), obj: join(dir, f.replace(/\.c$/, '.o')) }));
    const built = await compileAll(jobs);
    for (const { src, obj } of jobs) {
      if (built.get(src)) {
        problems.push(`${src}: clang failed: ${built.get(src)}`);
        continue;
      }
      const pin = `/sys/fs/bpf/tsbpf_vkc_${process.pid}`;
      rmSync(pin, { recursive: true, force: true });
      mkdirSync(pin, { recursive: true });
      const k = spawnSync('bpftool', ['prog', 'loadall', obj, pin], { encoding: 'utf8' });
      rmSync(pin, { recursive: true, force: true });
      const coll = loadObjectFileSync(obj);
      const results = [...coll.programs.values()].map((p) => verify(inputFromSpec(coll, p)));
      const oursOk = results.every((r) => r.ok);
      if (oursOk !== (k.status === 0)) {
        problems.push(`${src}: kernel ${k.status === 0 ? 'accepts' : 'rejects'}, tsbpf ${oursOk ? 'accepts' : `rejects (${results.find((r) => !r.ok)?.error?.kernelMessage})`}`);
      }
      const expectBad = /\/bad_/.test(src);
      if (expectBad === oursOk) problems.push(`${src}: expected ${expectBad ? 'a rejection' : 'acceptance'}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(problems, []);
});
