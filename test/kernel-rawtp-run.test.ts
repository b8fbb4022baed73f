/**
 * BPF_PROG_TEST_RUN of a raw tracepoint program in both backends through
 * the one API (`program.run({ ctx, flags, cpu })`): ctx_in is the u64
 * argument array, BPF_F_TEST_RUN_ON_CPU runs it on `cpu`
 * (bpf_prog_test_run_raw_tp: smp_call_function_single), and the inputs the
 * kernel refuses are refused with the same errno. Return values, errors and
 * the map the program writes (its arguments and bpf_get_smp_processor_id)
 * are compared case by case. The thread is pinned to CPU 0, the CPU a run
 * without BPF_F_TEST_RUN_ON_CPU has in user space.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildKernelProg, kernelSkip, which } from './kernel-support.js';
import { Runtime } from '../src/runtime/index.js';
import { KernelRuntime, openSys, possibleCpus } from '../src/kernel/index.js';
import { TsbpfError } from '../src/errors.js';
import { BPF_F_TEST_RUN_ON_CPU, type TestRunOptions } from '../src/runtime/testrun/types.js';
import type { CollectionSpec } from '../src/object/spec.js';
import type { RuntimeApi } from '../src/runtime/api.js';


const args = (...v: bigint[]): Uint8Array => {
  const b = new Uint8Array(8 * v.length);
  v.forEach((x, i) => new DataView(b.buffer).setBigUint64(i * 8, x, true));
  return b;
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function observe(rt: RuntimeApi, spec: CollectionSpec, cases: Array<[string, TestRunOptions]>): Promise<string[]> {
  const c = await rt.load(spec);
  try {
    const p = c.program('rtp');
    return cases.map(([what, o]) => {
      let r: string;
      try {
        r = `r0=${p.run(o).retval}`;
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
        r = `error ${e.errno}`;
      }
      return `${what}: ${r} seen=${hex(c.map('seen').get(0) as Uint8Array)}`;
    });
  } finally {
    c.close();
  }
}

test('raw_tp test run: the kernel and the user-space runtime agree on args, CPU, flags and refusals', { timeout: 60_000 }, async (t) => {
  const why = (await kernelSkip()) ?? (which('clang-19') ? undefined : 'clang-19 is not installed');
  if (why) return t.skip(why);
  const spec = buildKernelProg('rawtp_run.c', 'rawtp_run');
  const cpus = possibleCpus();
  (await openSys()).pinThreadToCpu(0);
  const ON_CPU = BPF_F_TEST_RUN_ON_CPU;
  const cases: Array<[string, TestRunOptions]> = [
    ['two args', { ctx: args(7n, 5n) }],
    ['twelve args (the most a raw_tp takes)', { ctx: args(...Array.from({ length: 12 }, (_, i) => BigInt(i + 1))) }],
    ['on CPU 0', { ctx: args(1n, 2n), flags: ON_CPU, cpu: 0 }],
    ...(cpus > 1 ? [['on the last CPU', { ctx: args(3n, 4n), flags: ON_CPU, cpu: cpus - 1 }] as [string, TestRunOptions]] : []),
    ['a CPU past the last', { ctx: args(3n, 4n), flags: ON_CPU, cpu: cpus }],
    ['a cpu without BPF_F_TEST_RUN_ON_CPU', { ctx: args(3n, 4n), cpu: 1 }],
    // the kernel ignores flags it does not know here (bpf_prog_test_run_raw_tp checks only BPF_F_TEST_RUN_ON_CPU)
    ['an unknown flag', { ctx: args(3n, 4n), flags: 1 << 5 }],
    ['thirteen args', { ctx: new Uint8Array(13 * 8) }],
    ['a ctx shorter than the program reads', { ctx: args(9n) }],
    ['no ctx', {}],
    ['repeat', { ctx: args(1n, 1n), repeat: 2 }],
    ['data', { ctx: args(1n, 1n), data: new Uint8Array(14) }],
  ];
  const user = new Runtime({ numCpus: cpus });
  const kernel = new KernelRuntime();
  try {
    const u = await observe(user, spec, cases);
    const k = await observe(kernel, spec, cases);
    for (let i = 0; i < cases.length; i++) assert.equal(k[i], u[i], `case ${cases[i]![0]}`);
    // and what they agree on is right
    assert.match(k[0]!, /: r0=26 seen=07000000000000000500000000000000/, 'args 7 and 5: 7 * 3 + 5');
    if (cpus > 1) assert.match(k[3]!, new RegExp(`r0=13 seen=03000000000000000400000000000000${(cpus - 1).toString(16).padStart(2, '0')}000000`), 'run on the last CPU, as bpf_get_smp_processor_id says');
    assert.match(k[cpus > 1 ? 4 : 3]!, /error ENXIO/);
    assert.match(k[cases.findIndex(([w]) => w.startsWith('a ctx shorter'))]!, /error EINVAL/, 'ctx_in shorter than max_ctx_offset');
  } finally {
    user.close();
    kernel.close();
  }
});
