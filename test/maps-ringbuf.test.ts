import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBuf, RingBufReader, MapError, checkMapSpec, BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT } from '../src/maps/index.js';
import { spec, ctx, make, place } from './maps-support.js';

const E = (e: string) => (err: unknown) => err instanceof MapError && err.errno === e;
const ring = (size = 4096) => {
  const c = ctx();
  return { rb: make<RingBuf>(spec('ringbuf', 0, 0, size), c), c };
};

test('ringbuf: size must be a power-of-2 multiple of the page size, key and value 0', () => {
  assert.throws(() => checkMapSpec(spec('ringbuf', 0, 0, 4096 * 3)), E('EINVAL'));
  assert.throws(() => checkMapSpec(spec('ringbuf', 0, 0, 2048)), E('EINVAL'));
  assert.throws(() => checkMapSpec(spec('ringbuf', 0, 8, 4096)), E('EINVAL'));
  checkMapSpec(spec('ringbuf', 0, 0, 1 << 16));
});

test('ringbuf: reserve writes the kernel record header; submit clears busy; discard sets the discard bit', () => {
  const { rb, c } = ring();
  const a = rb.reserve(5);
  assert.equal(a, rb.dataAddr + 8);
  assert.equal(rb.space.readU32(a - 8), (5 | BPF_RINGBUF_BUSY_BIT) >>> 0);
  assert.equal(c.table!.ringbufFor(a), rb);
  assert.equal(rb.query(BPF_RB_PROD_POS), 16n);
  assert.equal(rb.query(BPF_RB_AVAIL_DATA), 16n);
  assert.equal(rb.query(BPF_RB_RING_SIZE), 4096n);
  rb.space.write(a, new Uint8Array([1, 2, 3, 4, 5]));
  const reader = new RingBufReader(rb);
  assert.deepEqual(reader.read(), [], 'a busy record stops the reader');
  rb.submit(a);
  assert.equal(rb.space.readU32(a - 8), 5);
  const b = rb.reserve(3);
  rb.discard(b);
  assert.equal(rb.space.readU32(b - 8), (3 | BPF_RINGBUF_DISCARD_BIT) >>> 0);
  assert.deepEqual(reader.read().map((r) => Array.from(r)), [[1, 2, 3, 4, 5]]);
  assert.equal(reader.discarded, 1);
  assert.equal(rb.query(BPF_RB_CONS_POS), 32n);
  assert.equal(rb.query(BPF_RB_AVAIL_DATA), 0n);
  assert.equal(rb.query(99), 0n);
  assert.equal(rb.reserve(8, 1), 0, 'reserve flags must be 0');
});

test('ringbuf: out of space — producer may not get more than size-1 bytes ahead; wraps keep records contiguous', () => {
  const { rb } = ring(4096);
  const reader = new RingBufReader(rb);
  const big = new Uint8Array(2000);
  assert.equal(rb.write(big.fill(1)), 0);
  assert.equal(rb.write(big.fill(2)), 0);
  assert.equal(rb.write(big.fill(3)), -11, 'EAGAIN when full');
  assert.equal(rb.reserve(4096), 0, 'larger than the ring');
  assert.equal(reader.lost, 2);
  assert.equal(reader.read().length, 2);
  // now positions are at 4016: the next 2000-byte record wraps around the end
  const data = Uint8Array.from({ length: 2000 }, (_, i) => i & 0xff);
  assert.equal(rb.write(data), 0);
  const [rec] = reader.read();
  assert.deepEqual(rec, data);
  // a busy (uncommitted) record holds back later reservations that would overrun it
  const r1 = rb.reserve(2000);
  assert.notEqual(r1, 0);
  assert.equal(rb.reserve(2100), 0);
  rb.submit(r1);
  assert.equal(reader.read().length, 1);
});

test('ringbuf: output from a program copies data; bad flags are EINVAL', () => {
  const { rb } = ring();
  const src = place(rb, new Uint8Array([9, 8, 7]));
  assert.equal(rb.output(src, 3, 0), 0);
  assert.equal(rb.output(src, 3, 4), -22);
  assert.deepEqual(new RingBufReader(rb).read().map((r) => Array.from(r)), [[9, 8, 7]]);
});

test('ringbuf: wakeups follow the kernel rules (caught-up reader, NO_WAKEUP, FORCE_WAKEUP)', async () => {
  const { rb } = ring();
  rb.write(new Uint8Array(4));
  assert.equal(rb.stats.wakeups, 1, 'consumer caught up: wake');
  rb.write(new Uint8Array(4));
  assert.equal(rb.stats.wakeups, 1, 'consumer behind: no wake');
  rb.write(new Uint8Array(4), BPF_RB_FORCE_WAKEUP);
  assert.equal(rb.stats.wakeups, 2);
  new RingBufReader(rb).read();
  rb.write(new Uint8Array(4), BPF_RB_NO_WAKEUP);
  assert.equal(rb.stats.wakeups, 2);
  assert.equal(rb.stats.noWakeup, 1);
  assert.equal(rb.stats.forceWakeup, 1);
});

test('ringbuf reader: async iteration waits for records; callback mode; close ends the loop', async () => {
  const { rb } = ring();
  const reader = new RingBufReader(rb);
  const got: number[] = [];
  const loop = (async () => {
    for await (const rec of reader) {
      got.push(rec[0]!);
      if (got.length === 3) break;
    }
  })();
  rb.write(new Uint8Array([1]));
  await new Promise((r) => setTimeout(r, 1));
  rb.write(new Uint8Array([2]));
  rb.write(new Uint8Array([3]), BPF_RB_FORCE_WAKEUP);
  await loop;
  assert.deepEqual(got, [1, 2, 3]);
  reader.close();

  const seen: number[] = [];
  const cb = new RingBufReader(rb, { onRecord: (r) => seen.push(r[0]!) });
  rb.write(new Uint8Array([7]));
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(seen, [7]);
  cb.close();

  const r2 = new RingBufReader(rb);
  const pending = (async () => {
    const out: Uint8Array[] = [];
    for await (const rec of r2) out.push(rec);
    return out;
  })();
  await new Promise((r) => setTimeout(r, 1));
  r2.close();
  assert.deepEqual(await pending, []);
});

test('ringbuf: bpf(2) element commands are ENOTSUPP', () => {
  const { rb } = ring();
  assert.throws(() => rb.get(0), E('ENOTSUPP'));
  assert.throws(() => rb.nextKey(), E('ENOTSUPP'));
});

test('ringbuf: the cached views follow the memory when it grows (header, positions and samples stay where the space has them)', () => {
  const { rb } = ring(4096);
  const reader = new RingBufReader(rb);
  assert.equal(rb.write(Uint8Array.of(1, 2, 3)), 0);
  const before = rb.space.memory.buffer.byteLength;
  const big = rb.space.alloc(before); // more than is left: the memory grows, the old buffer detaches
  assert.ok(rb.space.memory.buffer.byteLength > before, 'the memory grew');
  assert.equal(rb.write(Uint8Array.of(4, 5)), 0);
  assert.equal(rb.space.readU32(rb.dataAddr + 16), 2, 'second header, seen through the space');
  assert.equal(rb.producerPos, 32);
  assert.deepEqual(reader.read().map((r) => Array.from(r)), [[1, 2, 3], [4, 5]]);
  assert.equal(rb.space.readU32(rb.ctrlAddr), 32, 'consumer_pos written where the space has it');
  rb.space.free(big);
  reader.close();
});

test('ringbuf reader: consumeInPlace hands out the samples in the ring, in batches of at most max, consumer_pos after each', () => {
  const { rb } = ring(4096);
  const reader = new RingBufReader(rb);
  for (let i = 1; i <= 5; i++) assert.equal(rb.write(Uint8Array.of(i, i, i).subarray(0, i % 3 + 1)), 0);
  const seen: number[][] = [];
  const n = reader.consumeInPlace((block, off, len) => {
    assert.equal(block.buffer, rb.space.memory.buffer, 'a view of the space, not a copy');
    assert.equal(block.byteOffset + off, rb.dataAddr + (rb.consumerPos & rb.mask) + 8, 'the sample after its header, at consumer_pos');
    seen.push(Array.from(block.subarray(off, off + len)));
  }, 3);
  assert.equal(n, 3);
  assert.deepEqual(seen, [[1, 1], [2, 2, 2], [3]]);
  assert.equal(rb.consumerPos, 3 * 16);
  // A callback that throws: its record counts as consumed, the rest stay.
  assert.throws(() => reader.consumeInPlace(() => { throw new Error('boom'); }), /boom/);
  assert.equal(rb.consumerPos, 4 * 16);
  assert.deepEqual(reader.read().map((r) => Array.from(r)), [[5, 5, 5]]);
  assert.equal(reader.records, 5);
  reader.close();
});
