// workers.mjs: docs/workers.md's example. Four worker threads run worker_count.o over the
// main thread's shared memory; no increment is lost and each thread has its own per-CPU slot.
//   node examples/workers.mjs
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { Runtime, loadCollectionFile } from 'tsbpf';

const WORKERS = 4;
const RUNS = 100_000;

if (isMainThread) {
  const rt = new Runtime({ shared: true, numCpus: WORKERS + 1 }); // CPU 0 = this thread
  const coll = await loadCollectionFile(new URL('./worker_count.o', import.meta.url).pathname, rt);
  coll.map('hits').set(0, 0n);
  const desc = rt.share(); // structured-clonable: the memory, the maps, the verified programs
  await Promise.all(
    Array.from({ length: WORKERS }, (_, i) =>
      new Promise((resolve, reject) => {
        new Worker(new URL(import.meta.url), { workerData: { desc, cpu: i + 1 } }).on('message', resolve).on('error', reject);
      }),
    ),
  );
  const u64 = (b) => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  console.log('hits', u64(coll.map('hits').get(0))); // 400000n: no lost increment
  console.log('per_cpu', coll.map('per_cpu').get(0).map(u64)); // [0n, 100000n, 100000n, 100000n, 100000n]
  coll.close();
  rt.close();
} else {
  const { desc, cpu } = workerData;
  const shared = await Runtime.attachShared(desc, { cpu }); // programs and maps by name
  shared.program('count').run({ data: new Uint8Array(64), repeat: RUNS });
  shared.close(); // frees CPU number `cpu`
  parentPort.postMessage('done');
}
