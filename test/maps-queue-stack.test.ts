import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueMap, StackMap, BloomFilter, MapError, BPF_ANY, BPF_EXIST, BPF_NOEXIST, checkMapSpec } from '../src/maps/index.js';
import { spec, make, readU32, place, u32 } from './maps-support.js';

const E = (e: string) => (err: unknown) => err instanceof MapError && err.errno === e;

test('queue: FIFO; full is E2BIG; BPF_EXIST overwrites the oldest; NOEXIST is EINVAL', () => {
  const q = make<QueueMap>(spec('queue', 0, 4, 3));
  q.push(1);
  q.push(2);
  q.push(3);
  assert.throws(() => q.push(4), E('E2BIG'));
  assert.throws(() => q.push(4, BPF_NOEXIST), E('EINVAL'));
  q.push(4, BPF_EXIST);
  assert.deepEqual(q.contents().map(readU32), [2, 3, 4]);
  assert.equal(readU32(q.peek()!), 2);
  assert.equal(readU32(q.pop()!), 2);
  assert.equal(readU32(q.pop()!), 3);
  assert.equal(readU32(q.pop()!), 4);
  assert.equal(q.pop(), undefined);
  assert.equal(q.peek(), undefined);
  assert.throws(() => q.delete(), E('EINVAL'));
  assert.throws(() => q.nextKey(), E('EINVAL'));
  assert.throws(() => q.lookupBatch(4), E('ENOTSUPP'));
});

test('stack: LIFO; BPF_EXIST overwrites the oldest (bottom)', () => {
  const s = make<StackMap>(spec('stack', 0, 4, 3));
  for (const v of [1, 2, 3]) s.push(v);
  s.push(4, BPF_EXIST);
  assert.equal(readU32(s.pop()!), 4);
  assert.equal(readU32(s.pop()!), 3);
  assert.equal(readU32(s.pop()!), 2);
  assert.equal(s.pop(), undefined);
});

test('queue/stack: program side push/pop/peek return codes', () => {
  for (const type of ['queue', 'stack'] as const) {
    const q = make<QueueMap>(spec(type, 0, 4, 2));
    const out = place(q, u32(0));
    assert.equal(q.ops.popElem(out, 0), -2);
    assert.equal(q.ops.pushElem(place(q, u32(5)), BPF_ANY, 0), 0);
    assert.equal(q.ops.pushElem(place(q, u32(6)), BPF_ANY, 0), 0);
    assert.equal(q.ops.pushElem(place(q, u32(7)), BPF_ANY, 0), -7);
    assert.equal(q.ops.pushElem(place(q, u32(7)), 3, 0), -22);
    assert.equal(q.ops.peekElem(out, 0), 0);
    assert.equal(q.space.readU32(out), type === 'queue' ? 5 : 6);
    assert.equal(q.ops.popElem(out, 0), 0);
    assert.equal(q.space.readU32(out), type === 'queue' ? 5 : 6);
    assert.equal(q.ops.lookupElem(out, 0), 0);
    assert.equal(q.ops.updateElem(out, out, 0, 0), -22);
  }
  assert.throws(() => checkMapSpec(spec('queue', 4, 4, 2)), E('EINVAL'));
});

test('bloom_filter: no false negatives, bounded false positives, only BPF_ANY, nothing to delete', () => {
  assert.throws(() => checkMapSpec(spec('bloom_filter', 4, 4, 16)), E('EINVAL'));
  assert.throws(() => checkMapSpec(spec('bloom_filter', 0, 4, 16, 0, { mapExtra: 16n })), E('EINVAL'));
  const b = make<BloomFilter>(spec('bloom_filter', 0, 4, 1000, 0, { mapExtra: 3n }));
  assert.equal(b.nrHashFuncs, 3);
  assert.equal(make<BloomFilter>(spec('bloom_filter', 0, 4, 10)).nrHashFuncs, 5);
  for (let i = 0; i < 1000; i++) b.push(i * 2);
  for (let i = 0; i < 1000; i++) assert.equal(b.mayContain(i * 2), true);
  let fp = 0;
  for (let i = 0; i < 1000; i++) if (b.mayContain(i * 2 + 1)) fp++;
  // 3 hashes, 4096 bits for 1000 entries: ~14% expected; far from "always true"
  assert.ok(fp < 400, `false positives ${fp}`);
  assert.throws(() => b.push(1, BPF_EXIST), E('EINVAL'));
  assert.throws(() => b.delete(), E('EOPNOTSUPP'));
  assert.throws(() => b.nextKey(), E('EOPNOTSUPP'));
  assert.equal(b.ops.peekElem(place(b, u32(4)), 0), 0);
  assert.equal(b.ops.popElem(place(b, u32(4)), 0), -95);
  const c = make<BloomFilter>(spec('bloom_filter', 0, 4, 100));
  assert.equal(c.ops.peekElem(place(c, u32(4)), 0), -2);
  assert.equal(c.ops.pushElem(place(c, u32(4)), BPF_ANY, 0), 0);
  assert.equal(c.ops.peekElem(place(c, u32(4)), 0), 0);
  assert.deepEqual(c.get(4), u32(4));
});
