/**
 * struct_ops members the ops struct does not support (check_struct_ops_btf_id after the
 * member is found): bpf_dummy_ops_check_member lets only test_sleepable be sleepable.
 * The C corpus (test/verifier-corpus/c/struct_ops_*) holds the kernel's verdicts on the
 * rest; a sleepable struct_ops program (SEC("struct_ops.s/...")) cannot be loaded by the
 * libbpf 1.1 the corpus is recorded with ("is not struct_ops BPF program"), so this rule
 * is held to net/bpf/bpf_dummy_struct_ops.c here; Linux 6.18 gave the same verdicts when
 * struct_ops_dummy_write.o was loaded through libbpf with bpf_program__set_flags(prog,
 * BPF_F_SLEEPABLE): EINVAL "attach to unsupported member test_1 of struct bpf_dummy_ops",
 * and an accept with the program in the test_sleepable slot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { loadObjectFileSync } from '../src/object/file.js';

const coll = loadObjectFileSync(join(ROOT, 'test/verifier-corpus/c/struct_ops_dummy_write.o'));
const prog = coll.programs.get('sodw_test_1')!;

test('a bpf_dummy_ops program is sleepable only on test_sleepable (bpf_dummy_ops_check_member)', () => {
  assert.equal(verify(inputFromSpec(coll, prog)).ok, true);
  const sleepy = { ...inputFromSpec(coll, prog), sleepable: true };
  const r = verify(sleepy);
  assert.equal(r.ok, false);
  assert.equal(r.error?.errno, 'EINVAL');
  assert.equal(r.error?.kernelMessage, 'attach to unsupported member test_1 of struct bpf_dummy_ops');
  // test_sleepable has test_1's prototype: the same code may be sleepable there
  assert.equal(verify({ ...sleepy, structOps: { struct: 'bpf_dummy_ops', member: 'test_sleepable' } }).ok, true);
});
