/**
 * Programs on worker threads over one shared memory (src/runtime/shared.ts):
 * real worker_threads running JIT-compiled programs concurrently with the
 * main thread, with exact answers required — atomics are atomic, per-CPU
 * slots are per thread, hash tables and ring buffers lose and duplicate
 * nothing under concurrent use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { Runtime, type SharedRuntime } from '../src/runtime/index.js';
import { MapError, RingBufReader, type RingBuf } from '../src/maps/index.js';
import { MapLock } from '../src/maps/lock.js';
import { TsbpfError } from '../src/errors.js';
import { setUp, type SharedSetup } from './workers/shared-programs.js';
import type { WorkerTask } from './workers/shared-worker.js';

const WORKERS = 4;
const u64 = (b: Uint8Array | undefined): bigint => new DataView(b!.buffer, b!.byteOffset, 8).getBigUint64(0, true);

/**
 * Start one worker per task (CPUs 1..n), wait until all are attached, then
 * release them together; `during` runs on the main thread while they work
 * (it is called until every worker has finished). Resolves with the results.
 */
async function runWorkers(desc: SharedRuntime, tasks: Array<Pick<WorkerTask, 'task' | 'n' | 'engine'>>, during?: () => void): Promise<unknown[]> {
  const start = new Int32Array(new SharedArrayBuffer(4));
  const url = new URL('./workers/shared-worker.js', import.meta.url);
  const ready: Promise<void>[] = [];
  const done: Promise<unknown>[] = [];
  let finished = 0;
  const workers = tasks.map((t, i) => {
    const w = new Worker(url, { workerData: { desc, cpu: i + 1, start, ...t } satisfies WorkerTask });
    ready.push(new Promise((res, rej) => {
      w.once('message', () => res());
      w.once('error', rej);
    }));
    done.push(new Promise((res, rej) => {
      let answered = false;
      w.on('message', (m: { result?: unknown }) => {
        if (m.result !== undefined) {
          answered = true;
          finished++;
          res(m.result);
        }
      });
      w.once('error', rej);
      w.once('exit', (code) => (!answered ? rej(new Error(`worker ${i + 1} exited with ${code} before answering`)) : undefined));
    }));
    return w;
  });
  // A failure on the main thread ends the workers; their exits must not hide it.
  for (const d of done) d.catch(() => undefined);
  try {
    await Promise.all(ready);
    Atomics.store(start, 0, 1);
    Atomics.notify(start, 0);
    if (during) {
      // Interleave main-thread work with the workers' until they are all done.
      while (finished < tasks.length) {
        during();
        await new Promise((r) => setImmediate(r));
      }
    }
    return await Promise.all(done);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function sharedRuntime(): Promise<{ rt: Runtime; s: SharedSetup }> {
  const rt = new Runtime({ shared: true, numCpus: WORKERS + 1 });
  const s = await setUp(rt);
  return { rt, s };
}

test('workers: atomics are real and per-CPU slots are per thread (4 workers, JIT and interpreter, + main)', async () => {
  const { rt, s } = await sharedRuntime();
  const N = 20_000;
  const count = rt.programList().find((p) => p.name === 'count')!;
  let mainRuns = 0;
  const engines = ['jit', 'interpreter', 'jit', 'interpreter'] as const;
  await runWorkers(rt.share(), engines.map((engine) => ({ task: 'count' as const, n: N, engine })), () => {
    // The main thread (CPU 0) runs the same program at the same time.
    count.run({ data: new Uint8Array(64), repeat: 500 });
    mainRuns += 500;
  });
  const total = BigInt(WORKERS * N + mainRuns);
  assert.equal(u64(s.hash.get(0) as Uint8Array), total, 'hash value: every __sync_fetch_and_add counted');
  assert.equal(u64(s.array.get(0) as Uint8Array), total, 'array value: every __sync_fetch_and_add counted');
  const slots = (s.percpu.get(0) as Uint8Array[]).map(u64);
  assert.deepEqual(slots, [BigInt(mainRuns), ...Array.from({ length: WORKERS }, () => BigInt(N))]);
  rt.close();
});

test('workers: concurrent inserts and deletes lose and duplicate no key (hash, lru_hash)', async () => {
  const { rt, s } = await sharedRuntime();
  const M = 1000;
  let mainKeys = 0;
  const results = (await runWorkers(rt.share(), Array.from({ length: WORKERS }, () => ({ task: 'churn' as const, n: M })), () => {
    // Main-thread host updates and deletes of its own keys meanwhile.
    for (let i = 0; i < 50 && mainKeys < 4000; i++) {
      const k = 900_000 + mainKeys++;
      s.churn.set(k, BigInt(k));
      if (k % 2 === 1) s.churn.delete(k);
    }
  })) as Array<{ failures: number }>;
  assert.deepEqual(results.map((r) => r.failures), [0, 0, 0, 0], 'every program update and delete succeeded');
  const expected = new Set<number>();
  for (let c = 1; c <= WORKERS; c++) for (let i = 0; i < M; i += 2) expected.add(c * 100_000 + i);
  for (let k = 900_000; k < 900_000 + mainKeys; k++) if (k % 2 === 0) expected.add(k);
  const keys = [...s.churn.keys()].map((k) => new DataView(k.buffer).getUint32(0, true));
  assert.equal(keys.length, new Set(keys).size, 'no key twice in the walk');
  assert.deepEqual(new Set(keys), expected);
  assert.equal((s.churn as unknown as { size: number }).size, expected.size, 'element count');
  for (const k of [100_000, 100_001, 400_000 + M - 2]) assert.equal(s.churn.has(k), expected.has(k));
  assert.equal(u64(s.churn.get(200_002) as Uint8Array), 200_002n, 'values written under the lock');
  // LRU after concurrent host inserts and deletes from 4 threads: the count matches the walk,
  // every key once, each value its key, never more than max_entries.
  const lruKeys = (): number[] => [...s.lru.keys()].map((k) => new DataView(k.buffer).getUint32(0, true));
  const lru = [...s.lru.entries()] as Array<[Uint8Array, Uint8Array]>;
  const lruSize = (s.lru as unknown as { size: number }).size;
  assert.ok(lruSize <= 64 && lruSize > 0);
  assert.equal(lru.length, lruSize);
  assert.equal(new Set(lruKeys()).size, lruSize);
  for (const [k, v] of lru) assert.equal(u64(v), BigInt(new DataView(k.buffer).getUint32(0, true)));
  // The recency list survived intact: 64 fresh inserts evict exactly everything older.
  for (let k = 1; k <= 64; k++) s.lru.set(k, BigInt(k));
  assert.deepEqual(new Set(lruKeys()), new Set(Array.from({ length: 64 }, (_, i) => i + 1)));
  assert.equal((s.lru as unknown as { size: number }).size, 64);
  rt.close();
});

test('workers: ring buffer records from every worker arrive once, none lost; a full ring counts drops', async () => {
  const { rt, s } = await sharedRuntime();
  const R = 1500;
  const ring = s.ring as unknown as RingBuf;
  const got: Array<[number, number]> = [];
  const reader = new RingBufReader(ring);
  const drain = (): void => {
    for (const r of reader.read()) {
      const v = new DataView(r.buffer);
      got.push([v.getUint32(0, true), v.getUint32(4, true)]);
    }
  };
  await runWorkers(rt.share(), Array.from({ length: WORKERS }, () => ({ task: 'emit' as const, n: R })), drain);
  drain();
  reader.close();
  assert.equal(got.length, WORKERS * R, 'every record arrived');
  for (let c = 1; c <= WORKERS; c++) {
    // Each worker's records carry its CPU (bpf_get_smp_processor_id) and arrive in its order.
    const seqs = got.filter(([cpu]) => cpu === c).map(([, seq]) => seq);
    assert.deepEqual(seqs, Array.from({ length: R }, (_, i) => i), `cpu ${c}`);
  }
  assert.equal(ring.stats.submitted, WORKERS * R);

  // Nobody reads the small ring: it fills, and every refused reservation is counted.
  const small = s.small as unknown as RingBuf;
  const results = (await runWorkers(rt.share(), Array.from({ length: WORKERS }, () => ({ task: 'emit_small' as const, n: 500 })))) as Array<{ refused: number }>;
  const refused = results.reduce((a, r) => a + r.refused, 0);
  assert.ok(refused > 0, 'the small ring filled up');
  assert.equal(small.stats.dropped, refused, 'drops counted in the shared stats');
  assert.equal(small.stats.submitted + refused, WORKERS * 500);
  const smallReader = new RingBufReader(small);
  assert.equal(smallReader.read().length, small.stats.submitted);
  smallReader.close();
  rt.close();
});

test('workers: a worker wakes a main-thread reader waiting on a shared ring', async () => {
  const { rt, s } = await sharedRuntime();
  const reader = new RingBufReader(s.ring as unknown as RingBuf);
  const first = reader[Symbol.asyncIterator]().next();
  await runWorkers(rt.share(), [{ task: 'emit', n: 1 }]);
  const r = await first;
  assert.equal(r.done, false);
  assert.equal(new DataView((r.value as Uint8Array).buffer).getUint32(0, true), 1, 'from cpu 1');
  reader.close();
  rt.close();
});

test('workers: tail calls through a shared prog_array run the worker\'s copy on its CPU', async () => {
  const { rt } = await sharedRuntime();
  const results = (await runWorkers(rt.share(), [{ task: 'tail', n: 0 }, { task: 'tail', n: 0 }])) as Array<{ retval: number }>;
  assert.deepEqual(results.map((r) => r.retval), [101, 102]);
  rt.close();
});

test('workers: programs attached to hooks in a worker run there, as that worker\'s CPU', async () => {
  const { rt, s } = await sharedRuntime();
  const results = (await runWorkers(rt.share(), [{ task: 'probe', n: 300 }, { task: 'probe', n: 500 }])) as Array<{ sum: number }>;
  assert.deepEqual(results.map((r) => r.sum), [300 * 301 / 2, 500 * 501 / 2]);
  const counts = [0, 1, 2, 3].map((c) => u64((s.own.get(c) as Uint8Array).subarray(0, 8)));
  assert.deepEqual(counts, [0n, 300n, 500n, 0n], 'one count per probed call, in the slot of the CPU it ran on');
  rt.close();
});

test('shared runtime: map types with state outside the memory are refused at creation (ENOTSUPP, naming map and type)', () => {
  const rt = new Runtime({ shared: true, numCpus: 2 });
  const bad = [
    { name: 'routes', type: 'lpm_trie' as const, keySize: 8, valueSize: 8, maxEntries: 16, flags: 1 },
    { name: 'jobs', type: 'queue' as const, keySize: 0, valueSize: 8, maxEntries: 16, flags: 0 },
    { name: 'events', type: 'perf_event_array' as const, keySize: 4, valueSize: 4, maxEntries: 2, flags: 0 },
  ];
  for (const spec of bad) {
    assert.throws(
      () => rt.createMap({ ...spec, pinning: 'none' }),
      (e: unknown) => e instanceof MapError && e.errno === 'ENOTSUPP' && e.message.includes(spec.name) && e.message.includes(spec.type),
    );
  }
  rt.close();
});

test('shared runtime: CPU numbers are claimed once and checked; share() needs shared: true', async () => {
  assert.throws(() => new Runtime({ numCpus: 2 }).share(), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  const { rt } = await sharedRuntime();
  const desc = rt.share();
  const a = await Runtime.attachShared(desc, { cpu: 3 });
  await assert.rejects(Runtime.attachShared(desc, { cpu: 3 }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBUSY');
  await assert.rejects(Runtime.attachShared(desc, { cpu: WORKERS + 1 }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  // In this thread too: the attached copy runs as CPU 3, over the same maps.
  assert.equal(a.program('entry').run({ data: new Uint8Array(64) }).retval, 103);
  a.program('count').run({ data: new Uint8Array(64), repeat: 10 });
  assert.equal(u64((rt.maps.byId(a.map('percpu').id)!.get(0) as Uint8Array[])[3]), 10n);
  assert.throws(() => a.map('progs').set(1, 1), (e: unknown) => e instanceof MapError && e.errno === 'EPERM');
  a.close();
  // The interpreter as this thread's engine: same CPU binding, tail calls, atomics on the shared memory.
  const i4 = await Runtime.attachShared(desc, { cpu: 4, engine: 'interpreter' });
  assert.equal(i4.program('entry').run({ data: new Uint8Array(64) }).retval, 104);
  i4.program('count').run({ data: new Uint8Array(64), repeat: 7 });
  assert.equal(u64((rt.maps.byId(i4.map('percpu').id)!.get(0) as Uint8Array[])[4]), 7n);
  assert.equal(u64(rt.maps.byId(i4.map('hash').id)!.get(0) as Uint8Array), 17n, 'hash[0]: 10 runs as CPU 3, 7 as CPU 4');
  i4.close();
  // BPF_F_NO_PREALLOC hashes are preallocated in a shared runtime: a worker never allocates.
  const np = rt.createMap({ name: 'noprealloc', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4, flags: 1, pinning: 'none' });
  const c1 = await Runtime.attachShared(rt.share(), { cpu: 1 });
  for (let k = 0; k < 4; k++) c1.map('noprealloc').set(k, BigInt(k * 3));
  assert.throws(() => c1.map('noprealloc').set(9, 1n), (e: unknown) => e instanceof MapError && e.errno === 'E2BIG');
  assert.deepEqual([0, 1, 2, 3].map((k) => u64(np.get(k) as Uint8Array)), [0n, 3n, 6n, 9n]);
  c1.close();
  // Per-CPU hashes and LRU per-CPU hashes made after a share() are seen by the next attach, slot by slot.
  for (const type of ['percpu_hash', 'lru_percpu_hash'] as const) {
    const m = rt.createMap({ name: type, type, keySize: 4, valueSize: 8, maxEntries: 8, flags: 0, pinning: 'none' });
    m.set(7, Array.from({ length: WORKERS + 1 }, (_, c) => BigInt(10 + c)) as never);
    const c2 = await Runtime.attachShared(rt.share(), { cpu: 2 });
    assert.deepEqual((c2.map(type).get(7) as Uint8Array[]).map(u64), [10n, 11n, 12n, 13n, 14n]);
    c2.map(type).set(8, 5n);
    assert.deepEqual((m.get(8) as Uint8Array[]).map(u64), [5n, 5n, 5n, 5n, 5n]);
    c2.close();
  }
  const b = await Runtime.attachShared(desc, { cpu: 3 });
  // A thread that went away without close(): its CPU can be taken over explicitly.
  const c = await Runtime.attachShared(desc, { cpu: 3, reclaim: true });
  assert.equal(c.program('entry').run({ data: new Uint8Array(64) }).retval, 103);
  c.close();
  b.close();
  rt.close();
});

test('shared runtime: a map lock never released (a thread terminated inside an operation) fails with ETIMEDOUT, not a hang', async () => {
  const { rt, s } = await sharedRuntime();
  const saved = MapLock.timeoutMs;
  MapLock.timeoutMs = 50;
  try {
    const lock = (s.churn as unknown as { lock: MapLock }).lock;
    lock.acquire();
    const timedOut = (e: unknown): boolean => e instanceof TsbpfError && e.errno === 'ETIMEDOUT' && e.message.includes('churn');
    assert.throws(() => s.churn.set(1, 1n), timedOut);
    // A program's update meets the same lock: the run fails instead of hanging.
    const upsert = rt.programList().find((p) => p.name === 'upsert')!;
    assert.throws(() => upsert.run({ data: new Uint8Array(64) }), (e: unknown) => e instanceof Error && /ETIMEDOUT|still held/.test(String(e) + String((e as { cause?: unknown }).cause)));
    lock.release();
    s.churn.set(1, 1n);
    assert.equal(u64(s.churn.get(1) as Uint8Array), 1n);
  } finally {
    MapLock.timeoutMs = saved;
  }
  rt.close();
});
