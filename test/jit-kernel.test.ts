/**
 * The JIT against Linux: the benchmark's programs (one assembly text each)
 * built with clang-19, loaded with bpftool and run once by the kernel
 * (BPF_PROG_TEST_RUN), and run by the JIT over the same packet. Return
 * values and the packet after the run must agree. Needs root, bpftool and
 * clang-19; skips with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../src/isa/asm/index.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import { JitEngine } from '../src/vm/jit/index.js';
import { PROGRAMS, kernelAsm, kernelAvailable, sourceOf } from '../bench/jit.bench.js';

const missing = kernelAvailable();

test('the JIT and the kernel agree on the benchmark programs (return value and packet)', { skip: missing }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-jit-kernel-'));
  const space = new AddressSpace({ initialPages: 16 });
  const jit = new JitEngine();
  try {
    // memcpy's 1 MB loop takes the verifier seconds; the others are quick. A program that says
    // why the kernel cannot run it (BenchProg.noKernel) is left out.
    for (const [i, p] of PROGRAMS.entries()) {
      if (p.name.startsWith('memcpy') || p.noKernel !== undefined) continue;
      const fn = `jitk${i}`;
      const pin = `/sys/fs/bpf/tsbpf_jitk_${process.pid}_${i}`;
      writeFileSync(join(dir, `${fn}.s`), kernelAsm(p, fn));
      const pkt = new Uint8Array(p.size);
      p.fill(pkt);
      writeFileSync(join(dir, `${fn}.in`), pkt);
      execFileSync('clang-19', ['-target', 'bpf', '-c', join(dir, `${fn}.s`), '-o', join(dir, `${fn}.o`)]);
      execFileSync('bpftool', ['prog', 'load', join(dir, `${fn}.o`), pin], { stdio: ['ignore', 'ignore', 'pipe'] });
      let kernel: { retval: number };
      try {
        kernel = JSON.parse(
          execFileSync('bpftool', ['-j', 'prog', 'run', 'pinned', pin, 'data_in', join(dir, `${fn}.in`), 'data_out', join(dir, `${fn}.out`)], { encoding: 'utf8' }),
        ) as { retval: number };
      } finally {
        rmSync(pin, { force: true });
      }
      const kernelOut = new Uint8Array(readFileSync(join(dir, `${fn}.out`)));

      const buf = space.alloc(p.size);
      const ctx = space.alloc(8);
      space.write(buf, pkt);
      space.writeU32(ctx, buf);
      space.writeU32(ctx + 4, buf + p.size);
      const exe = jit.prepare({ name: p.name, insns: assemble(sourceOf(p)), helpers: new HelperRegistry(), space, verified: true });
      const r0 = exe.run({ args: [BigInt(ctx)] });
      // BPF_PROG_TEST_RUN reports the low 32 bits of r0.
      assert.equal(Number(r0 & 0xffffffffn), kernel.retval, p.name);
      assert.deepEqual(space.bytes(buf, p.size).slice(), kernelOut, `${p.name}: packet after the run`);
      exe.close();
      space.free(buf);
      space.free(ctx);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
