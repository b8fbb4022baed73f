/**
 * The public API's one way of doing each thing (issue 13, part 5): maps by
 * name typed by map type, global variables by name before and after load,
 * readers stopped by an AbortSignal, Symbol.dispose on what has close(),
 * the engine from construction on, attach by section, and the deprecated
 * aliases still doing what they did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import {
  Runtime,
  loadObjectFile,
  variablesOf,
  HashMap,
  ArrayMap,
  RingBuf,
  RingBufReader,
  TsbpfError,
  JitEngine,
  Interpreter,
  type RingBufReaderApi,
} from '../src/index.js';
import { PerfReader, ringbufRecords, attach, sectionHook, appTracepoint, Tracepoint, PolicyHook } from '../src/hooks/index.js';
import { PerfEventArray } from '../src/maps/index.js';
import { Debugger } from '../src/vm/debugger.js';
import { FIXTURES, ROOT } from './paths.js';
import { spec, ctx, make } from './maps-support.js';

const E = (errno: string) => (e: unknown) => e instanceof TsbpfError && e.errno === errno;

test('coll.map(name, type) returns that type\'s class; another type is EINVAL, an unknown name ENOENT', async () => {
  const rt = new Runtime();
  const coll = await rt.load(await loadObjectFile(resolve(FIXTURES, 'xdp_firewall.o')));
  const block = coll.map('blocklist', 'hash');
  assert.ok(block instanceof HashMap);
  assert.ok(coll.map('proto_count', 'array') instanceof ArrayMap);
  assert.equal(coll.map('blocklist'), block);
  assert.throws(() => coll.map('blocklist', 'array'), E('EINVAL'));
  assert.throws(() => coll.map('nope', 'hash'), E('ENOENT'));
  coll.close();
  rt.close();
});

test('global variables: set .rodata before load, read and write .data/.bss after, .rodata EPERM after', async () => {
  const s = await loadObjectFile(resolve(FIXTURES, 'global_data.o'));
  const vars = variablesOf(s);
  // global linkage only, as bpftool's skeleton: the static seen_big is not listed
  assert.deepEqual([...vars.keys()].sort(), ['greeting', 'hist', 'last_len', 'min_len', 'packets', 'verdict_small']);
  assert.equal(vars.get('min_len')!.get(), 64);
  assert.equal(vars.get('packets')!.get(), 7n);
  assert.deepEqual(vars.get('hist')!.get(), [1n, 2n, 3n, 4n]);
  assert.equal(vars.get('last_len')!.get(), 0);
  vars.get('min_len')!.set(100);
  vars.get('last_len')!.set(5); // .bss gets initial contents
  const rt = new Runtime();
  const coll = await rt.load(s);
  const run = () => coll.program('global_data').run({ data: new Uint8Array(64) }).retval;
  assert.equal(coll.variables.get('last_len')!.get(), 5);
  assert.equal(run(), 1, '64 < min_len 100: verdict_small, XDP_DROP');
  assert.equal(coll.variables.get('packets')!.get(), 8n);
  assert.equal(coll.variables.get('last_len')!.get(), 64);
  coll.variables.get('packets')!.set(1000n);
  run();
  assert.equal(coll.variables.get('packets')!.get(), 1001n, 'the program sees the host\'s write');
  coll.variables.get('verdict_small')!.get();
  assert.throws(() => coll.variables.get('min_len')!.set(1), E('EPERM'));
  assert.throws(() => coll.variables.get('packets')!.set(new Uint8Array(3)), E('EINVAL'));
  coll.close();
  rt.close();
});

test('ring buffer and perf readers end their loop when their AbortSignal aborts', async () => {
  const rb = make<RingBuf>(spec('ringbuf', 0, 0, 4096));
  const ac = new AbortController();
  const reader: RingBufReaderApi = new RingBufReader(rb, { signal: ac.signal });
  const got: number[] = [];
  const loop = (async () => {
    for await (const rec of reader) got.push(rec[0]!);
  })();
  rb.write(new Uint8Array([1]));
  await new Promise((r) => setTimeout(r, 1));
  ac.abort();
  await loop;
  assert.deepEqual(got, [1]);
  const pre = new RingBufReader(rb, { signal: AbortSignal.abort() });
  await new Promise((r) => setTimeout(r, 1));
  rb.write(new Uint8Array([2]));
  const after: Uint8Array[] = [];
  for await (const rec of pre) after.push(rec);
  assert.deepEqual(after, [], 'a reader given an aborted signal is closed');

  const pe = make<PerfEventArray>(spec('perf_event_array', 4, 4, 1));
  const pac = new AbortController();
  const perf = new PerfReader(pe, { signal: pac.signal });
  const perfLoop = (async () => {
    let n = 0;
    for await (const _ of perf) n++;
    return n;
  })();
  await new Promise((r) => setTimeout(r, 1));
  pac.abort();
  assert.equal(await perfLoop, 0);
});

test('Symbol.dispose closes maps, readers, programs, collections and runtimes', async () => {
  const c = ctx();
  const m = make<HashMap>(spec('hash', 4, 4, 4), c);
  m[Symbol.dispose]();
  assert.equal(m.closed, true);
  const rb = make<RingBuf>(spec('ringbuf', 0, 0, 4096), c);
  const r = new RingBufReader(rb);
  r[Symbol.dispose]();
  const rt = new Runtime();
  const coll = await rt.load(await loadObjectFile(resolve(FIXTURES, 'xdp_firewall.o')));
  const prog = coll.program('xdp_firewall');
  coll[Symbol.dispose]();
  assert.throws(() => prog.run({ data: new Uint8Array(64) }), E('EBADF'));
  rt[Symbol.dispose]();
  for (const cls of [PerfReader, Debugger]) assert.equal(typeof cls.prototype[Symbol.dispose], 'function', cls.name);
});

test('Runtime.engine is there from construction on', () => {
  const jit = new Runtime();
  assert.ok(jit.engine instanceof JitEngine);
  const interp = new Runtime({ engine: 'interpreter' });
  assert.ok(interp.engine instanceof Interpreter);
  jit.close();
  interp.close();
});

test('sectionHook names the hook of a tracepoint or policy section; other sections are EINVAL', async () => {
  assert.ok(sectionHook('tracepoint/app/order') instanceof Tracepoint);
  assert.ok(sectionHook('raw_tp/file_open') instanceof PolicyHook);
  assert.throws(() => sectionHook('xdp'), E('EINVAL'));
  const rt = new Runtime();
  const coll = await rt.load(await loadObjectFile(resolve(ROOT, 'examples/app_events.o')));
  const p = coll.program('on_order');
  const link = p.attach(sectionHook(p));
  const reader = new RingBufReader(coll.map('orders', 'ringbuf'));
  appTracepoint('order').fire([42]);
  const [rec] = reader.read();
  assert.equal(new DataView(rec!.buffer, rec!.byteOffset).getBigUint64(0, true), 42n);
  link.detach();
  // the deprecated aliases still work
  const old = attach(p, sectionHook('tracepoint/app/order'));
  const oldReader = ringbufRecords(coll.map('orders'));
  appTracepoint('order').fire([43]);
  assert.equal(oldReader.read().length, 1);
  old.detach();
  oldReader.close();
  reader.close();
  coll.close();
  rt.close();
});
