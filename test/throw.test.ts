/**
 * bpf_throw (src/verifier/throw.ts) and exception callbacks
 * (src/verifier/exception-entry.ts): the verifier judges a throwing program as
 * Linux does (test/real-progs/throw_cookie*.c and throw_cb*.c carry the
 * kernel's verdicts; test/verifier-corpus/throw.txt the rules), and the
 * runtime, which does not unwind, refuses to run one at load with ENOTSUPP
 * naming the kfunc: in either engine, and never by running past the throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { Runtime } from '../src/runtime/index.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { TsbpfError } from '../src/errors.js';
import { DIR } from './real-progs/corpus.js';
import type { Insn } from '../src/isa/insn.js';
import * as op from '../src/isa/opcodes.js';

const judge = (obj: string, edit?: (insns: Insn[]) => void) => {
  const coll = loadObjectFileSync(join(DIR, `${obj}.o`));
  const input = inputFromSpec(coll, coll.programs.get(obj)!, { privileged: true });
  const insns = [...input.insns];
  edit?.(insns);
  return verify({ ...input, insns });
};

test('the verifier accepts a cookie in the program type\'s range and refuses one outside it', () => {
  assert.equal(judge('throw_cookie').ok, true);
  const bad = judge('throw_cookie_range');
  assert.equal(bad.ok, false);
  assert.equal(bad.error!.errno, 'EINVAL');
  assert.equal(bad.error!.kernelMessage, 'At program exit the register R1 has smin=2 smax=2 should have been in [0, 1]');
});

test('an exception callback is verified on its own: one integer argument, the program\'s return range', () => {
  // the cookie thrown (7) is outside cgroup_skb's [0, 1]: with a callback it is the callback's argument
  assert.equal(judge('throw_cb').ok, true);
  assert.equal(judge('throw_cb_ret').error?.kernelMessage, 'At program exit the register R0 has unknown scalar value should have been in [0, 1]');
  assert.equal(judge('throw_cb_args').error?.kernelMessage, 'exception cb only supports single integer argument');
  assert.equal(judge('throw_cb_direct').error?.kernelMessage, 'insn 6 cannot call exception cb directly');
});

test('an exception callback nothing refers to (libbpf 1.3+ appends it) is a function and a root of the walk', () => {
  // throw_cb refers to its callback by an ld_imm64 on a dead path; as a plain ld_imm64 of 0 the callback
  // is code nothing reaches, which check_cfg walks from the tag (without it: "unreachable insn")
  const unreferenced = (insns: Insn[]) => {
    const i = insns.findIndex((x) => x.code === op.OP_LDDW && x.src === op.BPF_PSEUDO_FUNC);
    assert.ok(i > 0);
    insns[i] = { ...insns[i]!, src: 0, imm: 0 };
  };
  assert.equal(judge('throw_cb', unreferenced).ok, true);
  assert.equal(judge('throw_cb_ret', unreferenced).error?.kernelMessage, 'At program exit the register R0 has unknown scalar value should have been in [0, 1]');
  // its stack is its own either way: 320 bytes here and 320 in the program
  assert.equal(judge('throw_cb_stack', unreferenced).ok, true);
});

for (const engine of ['interpreter', 'jit'] as const) {
  for (const obj of ['throw_cookie', 'throw_cb'])
    test(`${engine}: the runtime refuses to run a program that calls bpf_throw, naming it (${obj})`, async () => {
      using rt = new Runtime({ engine });
      await assert.rejects(rt.load(loadObjectFileSync(join(DIR, `${obj}.o`))),
        (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /kfunc bpf_throw is not supported by tsbpf/.test(e.message));
    });
}
