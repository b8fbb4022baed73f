/**
 * Iterator key/value buffers (PTR_TO_BUF, src/verifier/buf.ts): beyond the verdicts the corpus
 * holds (test/verifier-corpus/iter-buf.txt), the farthest accesses the verifier records for the
 * attach-time check (the kernel's max_rdonly_access / max_rdwr_access), and the shipped kernel-BTF
 * subset judging the buffer iterators without a kernel BTF.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify } from '../src/verifier/index.js';
import { caseNamed, verifierInput } from './support/verifier-cases.js';

function stats(name: string, subset = false) {
  const c = caseNamed(name);
  const input = verifierInput(c);
  if (subset) delete input.kernelBtf;
  const r = verify(input);
  assert.equal(r.ok, true, r.error?.message);
  return r.stats;
}

test('the farthest read-only and writable buffer accesses are recorded (max_rdonly_access, max_rdwr_access)', () => {
  // a u32 read at key+4
  assert.deepEqual([stats('ibuf_key_read_checked').maxRdonlyAccess, stats('ibuf_key_read_checked').maxRdwrAccess], [8, undefined]);
  // value += 4000, then a byte at +96
  assert.deepEqual([stats('ibuf_value_far_offset').maxRdonlyAccess, stats('ibuf_value_far_offset').maxRdwrAccess], [undefined, 4097]);
  // stores at +8 and +0 (u64)
  assert.equal(stats('ibuf_value_write').maxRdwrAccess, 16);
  // a helper's read of 12 bytes of the key (check_helper_mem_access)
  assert.equal(stats('ibuf_seq_write_key').maxRdonlyAccess, 12);
});

test('the shipped kernel-BTF subset has the buffer iterators\' prototypes', () => {
  for (const name of ['ibuf_key_read_checked', 'ibuf_sleepable_meta_seq', 'ibuf_sockmap_key_read', 'ibuf_sk_storage_value_write']) stats(name, true);
  const c = caseNamed('ibuf_key_write');
  const input = verifierInput(c);
  delete input.kernelBtf;
  const r = verify(input);
  assert.equal(r.ok, false);
  assert.match(r.error?.kernelMessage ?? '', /R2 cannot write into rdonly_buf/);
});
