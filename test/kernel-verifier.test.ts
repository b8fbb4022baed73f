/**
 * Rejections and refusals from the kernel, as typed errors: a program the
 * kernel's verifier refuses is a KernelVerifierError (a VerifierError) with
 * the kernel's whole log and tsbpf's explanation of the same program beside
 * it; a process without CAP_BPF gets EPERM saying what is missing; the
 * verifier log is kept when asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelSkip, which } from './kernel-support.js';
import { FIXTURES, ROOT } from './paths.js';
import { readObject } from '../src/object/reader.js';
import { loadObjectFile } from '../src/object/file.js';
import { VerifierError } from '../src/verifier/error.js';
import { KernelRuntime, KernelVerifierError } from '../src/kernel/index.js';

test('kernel verifier rejection: the kernel log and tsbpf explanation side by side', async (t) => {
  const why = (await kernelSkip()) ?? (which('clang-19') ? undefined : 'clang-19 is not installed');
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kver-'));
  const rt = new KernelRuntime();
  try {
    execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(ROOT, 'test/kernel-progs/reject.c'), '-o', join(dir, 'reject.o')], { stdio: 'pipe' });
    const spec = readObject(new Uint8Array(readFileSync(join(dir, 'reject.o'))), { name: 'reject' });
    const err = await rt.load(spec).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof KernelVerifierError, `a KernelVerifierError, got ${String(err)}`);
    assert.ok(err instanceof VerifierError);
    assert.equal(err.errno, 'EACCES');
    // the kernel's own words, from its log
    assert.match(err.kernelLog, /invalid mem access 'map_value_or_null'/);
    assert.match(err.kernelMessage, /invalid mem access 'map_value_or_null'/);
    assert.equal(err.log, err.kernelLog);
    // tsbpf's verifier on the same program: the same rule, with the C line
    assert.ok(err.tsbpf, "tsbpf's verifier rejects it too");
    assert.match(err.tsbpf.kernelMessage, /map_value_or_null/);
    assert.equal(err.sourceLine?.line, err.tsbpf.sourceLine?.line);
    assert.match(err.sourceLine?.text ?? '', /\*v \+= 1/);
    assert.ok(err.hint, 'a hint');
    const text = err.explain();
    assert.match(text, /^kernel: .*map_value_or_null/);
    assert.match(text, /tsbpf's verifier on the same program/);
  } finally {
    rt.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kernel verifier log: kept when a log level is asked for', async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const rt = new KernelRuntime();
  try {
    const c = await rt.load(await loadObjectFile(join(FIXTURES, 'xdp_firewall.o')), { logLevel: 2 });
    const log = c.program('xdp_firewall').verifierLog ?? '';
    assert.match(log, /processed \d+ insns/);
    assert.ok(c.program('xdp_firewall').info().verifiedInsns > 0);
    c.close();
  } finally {
    rt.close();
  }
});

test('kernel backend without CAP_BPF: EPERM with the reason', async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const unpriv = readFileSync('/proc/sys/kernel/unprivileged_bpf_disabled', 'utf8').trim();
  if (unpriv === '0') return t.skip('kernel.unprivileged_bpf_disabled=0: unprivileged socket filters are allowed here');
  const script = `
    import { loadObjectFile } from ${JSON.stringify(join(ROOT, 'dist/src/object/file.js'))};
    import { KernelRuntime } from ${JSON.stringify(join(ROOT, 'dist/src/kernel/index.js'))};
    try {
      await new KernelRuntime().load(await loadObjectFile(${JSON.stringify(join(FIXTURES, 'socket_filter.o'))}));
      console.log(JSON.stringify({ ok: true }));
    } catch (e) {
      console.log(JSON.stringify({ name: e.constructor.name, errno: e.errno, message: e.message }));
    }`;
  // the same load as user nobody
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { errno?: string; message?: string; name?: string };
  assert.equal(out.errno, 'EPERM', r.stdout);
  assert.match(out.message ?? '', /CAP_BPF/);
  assert.equal(out.name, 'KernelError');
});
