/**
 * A worker thread of test/runtime-workers.test.ts and bench/workers.bench.ts:
 * attaches to the shared runtime as CPU `cpu`, says it is ready, waits for
 * the start word, runs its task and posts the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Runtime, type SharedRuntime } from '../../src/runtime/index.js';
import { uprobe } from '../../src/hooks/uprobe.js';

export interface WorkerTask {
  desc: SharedRuntime;
  cpu: number;
  /** [0]: start word (workers wait while 0) */
  start: Int32Array;
  task: 'count' | 'churn' | 'emit' | 'emit_small' | 'tail' | 'probe' | 'bench_count' | 'bench_own';
  n: number;
  /** the worker's engine (default: the JIT) */
  engine?: 'jit' | 'interpreter';
}

const t = workerData as WorkerTask;
const coll = await Runtime.attachShared(t.desc, { cpu: t.cpu, ...(t.engine ? { engine: t.engine } : {}) });
// The benchmark measures warm code, as its main-thread baseline is (best of 3).
const benchProg = t.task === 'bench_count' ? 'count' : t.task === 'bench_own' ? 'own' : undefined;
if (benchProg) coll.program(benchProg).run({ data: new Uint8Array(64), repeat: t.n });
parentPort!.postMessage({ ready: true });
Atomics.wait(t.start, 0, 0);

const u32pair = (a: number, b: number): Uint8Array => {
  const d = new Uint8Array(64);
  const v = new DataView(d.buffer);
  v.setUint32(0, a, true);
  v.setUint32(4, b, true);
  return d;
};

let result: unknown;
switch (t.task) {
  case 'count':
    coll.program('count').run({ data: new Uint8Array(64), repeat: t.n });
    result = { ok: true };
    break;
  case 'bench_count':
  case 'bench_own': {
    const t0 = performance.now();
    coll.program(benchProg!).run({ data: new Uint8Array(64), repeat: t.n });
    result = { ms: performance.now() - t0 };
    break;
  }
  case 'churn': {
    // Program-side inserts of n keys of our own range, then deletes of the odd ones;
    // host-side inserts and deletes in the LRU map at the same time.
    const upsert = coll.program('upsert');
    const base = t.cpu * 100_000;
    let failures = 0;
    for (let i = 0; i < t.n; i++) if (upsert.run({ data: u32pair(base + i, 0) }).retval !== 0) failures++;
    for (let i = 1; i < t.n; i += 2) if (upsert.run({ data: u32pair(base + i, 1) }).retval !== 0) failures++;
    const lru = coll.map('lru');
    for (let i = 0; i < t.n; i++) {
      lru.set(base + i, BigInt(base + i));
      if (i % 3 === 0) {
        try {
          lru.delete(base + i);
        } catch {
          // another worker's insert may have evicted it: not a failure
        }
      }
    }
    result = { failures };
    break;
  }
  case 'emit':
  case 'emit_small': {
    // 'emit': retry until the record is in (nothing may be lost); 'emit_small': count refusals.
    const p = coll.program(t.task);
    let refused = 0;
    for (let seq = 0; seq < t.n; seq++) {
      for (;;) {
        const rc = p.run({ data: u32pair(seq, 0) }).retval;
        if (rc === 0) break;
        refused++;
        if (t.task === 'emit_small') break;
      }
    }
    result = { refused };
    break;
  }
  case 'probe': {
    // A uprobe link in this thread: each call of api.handle runs the probe program here, as this CPU.
    const api = { handle: (x: number): number => x + 1 };
    const link = coll.program('probe').attach(uprobe(api, 'handle'));
    let sum = 0;
    for (let i = 0; i < t.n; i++) sum += api.handle(i);
    link.detach();
    api.handle(0);
    result = { sum };
    break;
  }
  case 'tail':
    result = { retval: coll.program('entry').run({ data: new Uint8Array(64) }).retval };
    break;
}
coll.close();
parentPort!.postMessage({ result });
