/**
 * A worker thread of test/runtime-deadline.test.ts: attaches to the shared
 * runtime it is given and runs the nested bpf_loop program once, posting
 * how the run ended (the deadline's errno and limit, or the return value).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Runtime, type SharedRuntime } from '../../src/runtime/index.js';
import { RunDeadlineExceeded } from '../../src/vm/fault.js';

const { desc, cpu } = workerData as { desc: SharedRuntime; cpu: number };
const coll = await Runtime.attachShared(desc, { cpu });
try {
  const r = coll.program('nested_xdp').run({ data: new Uint8Array(64) });
  parentPort!.postMessage({ retval: r.retval });
} catch (e) {
  parentPort!.postMessage(e instanceof RunDeadlineExceeded ? { errno: e.errno, limit: e.limit } : { error: String(e) });
} finally {
  coll.close();
}
