import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { appTracepoint, attachTracepoint } from '../src/hooks/tracepoint.js';
import { consumeRingbuf, PerfReader, ringbufRecords, TracePipe } from '../src/hooks/streams.js';
import type { PerfEventArray } from '../src/maps/perf-event-array.js';
import { MapError } from '../src/maps/map.js';
import { ROOT } from './paths.js';

const OBJ = resolve(ROOT, 'examples/app_events.o');
const id = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);

async function setup(trace?: TracePipe) {
  const rt = new Runtime(trace ? { trace: trace.sink } : {});
  const coll = await loadCollectionFile(OBJ, rt);
  const link = attachTracepoint(coll.program('on_order'));
  return { rt, coll, link, tp: appTracepoint('order') };
}

test('ring buffer records through an async iterator, in order', async () => {
  const { rt, coll, link, tp } = await setup();
  const reader = ringbufRecords(coll.map('orders'));
  for (let i = 0; i < 10; i++) tp.fire([i]);
  const got: bigint[] = [];
  for await (const rec of reader) {
    got.push(id(rec));
    if (got.length === 10) break;
  }
  assert.deepEqual(got, [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
  assert.equal(reader.lost, 0);
  reader.close();
  link.detach();
  rt.close();
});

test('a ring buffer reader on a map of another type is EINVAL, not a crash (libbpf ring_buffer__add)', async () => {
  const { rt, coll, link } = await setup();
  for (const read of [() => ringbufRecords(coll.map('order_events')), () => consumeRingbuf(coll.map('order_events'), () => {})]) {
    assert.throws(read, (e: unknown) => e instanceof MapError && e.errno === 'EINVAL' && /order_events is a perf_event_array map, not a ringbuf/.test(e.message));
  }
  link.detach();
  rt.close();
});

test('a slow callback applies back-pressure: the ring fills, drops are counted, nothing vanishes', async () => {
  const { rt, coll, link, tp } = await setup();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const seen: bigint[] = [];
  const c = consumeRingbuf(coll.map('orders'), async (rec) => {
    seen.push(id(rec));
    await gate;
  });
  const N = 500;
  for (let i = 0; i < N; i++) tp.fire([i]);
  assert.ok(c.lost > 0, 'a 4 KiB ring cannot hold 500 records');
  release();
  // Wait until the consumer has taken everything that was written.
  while (seen.length + c.lost < N) await new Promise((r) => setImmediate(r));
  assert.equal(seen.length + c.lost, N);
  // What arrived is the oldest records, in order, without gaps.
  assert.deepEqual(seen, seen.map((_, i) => BigInt(i)));
  c.close();
  await c.done;
  link.detach();
  rt.close();
});

test('perf event array reader: records per CPU slot, callback and read()', async () => {
  const { rt, coll, link, tp } = await setup();
  const cb: bigint[] = [];
  const reader = new PerfReader(coll.map('order_events') as unknown as PerfEventArray, { onRecord: (r) => cb.push(id(r.data)) });
  for (let i = 0; i < 5; i++) tp.fire([100 + i]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(cb, [100n, 101n, 102n, 103n, 104n]);
  assert.equal(reader.records, 5);
  assert.equal(reader.lost, 0);
  reader.close();
  link.detach();
  rt.close();
});

test('bpf_trace_printk output as a trace_pipe Readable, with overruns reported', async () => {
  const pipe = new TracePipe(2);
  const { rt, link, tp } = await setup(pipe);
  for (let i = 1; i <= 5; i++) tp.fire([i]);
  assert.equal(pipe.dropped, 3);
  pipe.close();
  let text = '';
  for await (const chunk of pipe) text += chunk;
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'CPU:0 [LOST 3 EVENTS]');
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, /^ +\S+-\d+ \[000\] d\.\.31 \d+\.\d{6}: bpf_trace_printk: order 1 cpu 0 ts \d+$/);
  assert.match(lines[2]!, /bpf_trace_printk: order 2 /);
  link.detach();
  rt.close();
});
