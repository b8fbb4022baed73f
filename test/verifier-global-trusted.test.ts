/**
 * `__arg_trusted` / `__arg_nullable` global-function arguments judged against tsbpf's shipped
 * kernel BTF (no --kernel-btf): the real-progs cases (test/real-progs/global_trusted_*.c, whose
 * kernel verdicts real-progs.test.ts checks against the recording kernel's types) get the same
 * verdicts, except that a type the shipped subset lacks is unsupported (ENOTSUPP), never judged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { DIR, recorded } from './real-progs/corpus.js';

function judge(o: string): { ok: boolean; errno?: string; message?: string } {
  const coll = loadObjectFileSync(join(DIR, o));
  const r = verify(inputFromSpec(coll, [...coll.programs.values()][0]!, { privileged: true }));
  return r.ok ? { ok: true } : { ok: false, errno: r.error!.errno, message: r.error!.kernelMessage };
}

const cases = Object.keys(recorded().objects).filter((o) => o.startsWith('global_trusted_') || o === 'global_nullable_mem.o');

test('the __arg_trusted cases are in the corpus', () => {
  assert.ok(cases.length >= 10, cases.join(' '));
});

test('in the shipped kernel BTF, __arg_trusted cases get the kernel\'s verdict or ENOTSUPP', () => {
  for (const o of cases) {
    const want = recorded().objects[o]!.verdict;
    const got = judge(o);
    if (o === 'global_trusted_no_type.o') {
      assert.equal(got.errno, 'ENOTSUPP', `${o}: ${got.message}`);
      assert.match(got.message!, /tsbpf_no_such_struct is not in tsbpf's shipped kernel BTF/);
      continue;
    }
    assert.equal(got.ok ? 'accept' : 'reject', want, `${o}: ${got.message ?? ''}`);
    assert.notEqual(got.errno, 'ENOTSUPP', `${o}: ${got.message}`);
  }
});

test('the callee\'s argument is trusted, NULL-able only when tagged so', () => {
  // a nullable trusted argument read unchecked: the callee sees trusted_ptr_or_null_
  assert.match(judge('global_trusted_nullable_unchecked.o').message!, /R1 invalid mem access 'trusted_ptr_or_null_'/);
  // the callee holds no reference to release
  assert.match(judge('global_trusted_release.o').message!, /expects refcounted PTR_TO_BTF_ID/);
  // an RCU pointer is not trusted (Linux 6.18)
  assert.match(judge('global_trusted_rcu.o').message!, /R1 must be referenced or trusted\nCaller passes invalid args into func#1 \('pid_of'\)/);
});
