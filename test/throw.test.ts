/**
 * bpf_throw (src/verifier/throw.ts): the verifier judges a throwing program as
 * Linux does (test/real-progs/throw_cookie*.c carry the kernel's verdicts;
 * test/verifier-corpus/throw.txt the rules), and the runtime, which does not
 * unwind, refuses to run one at load with ENOTSUPP naming the kfunc: in
 * either engine, and never by running past the throw.
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

test('the verifier accepts a cookie in the program type\'s range and refuses one outside it', () => {
  const judge = (obj: string) => {
    const coll = loadObjectFileSync(join(DIR, `${obj}.o`));
    return verify(inputFromSpec(coll, coll.programs.get(obj)!, { privileged: true }));
  };
  assert.equal(judge('throw_cookie').ok, true);
  const bad = judge('throw_cookie_range');
  assert.equal(bad.ok, false);
  assert.equal(bad.error!.errno, 'EINVAL');
  assert.equal(bad.error!.kernelMessage, 'At program exit the register R1 has smin=2 smax=2 should have been in [0, 1]');
});

for (const engine of ['interpreter', 'jit'] as const) {
  test(`${engine}: the runtime refuses to run a program that calls bpf_throw, naming it`, async () => {
    using rt = new Runtime({ engine });
    await assert.rejects(rt.load(loadObjectFileSync(join(DIR, 'throw_cookie.o'))),
      (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /kfunc bpf_throw is not supported by tsbpf/.test(e.message));
  });
}
