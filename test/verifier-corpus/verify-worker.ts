/**
 * Runs corpus cases through tsbpf's verify() in a worker thread, so that a
 * verifier that loops (or takes far longer than the kernel) on one case is
 * stopped by the test's watchdog instead of hanging the whole suite.
 * Messages in: { index }; out: { index, verdict, errno, message }.
 */
import { parentPort } from 'node:worker_threads';
import { verify } from '../../src/verifier/index.js';
import { loadCorpus, verifierInput } from '../support/verifier-cases.js';

const cases = loadCorpus();
parentPort!.on('message', (m: { index: number }) => {
  const c = cases[m.index]!;
  try {
    const r = verify(verifierInput(c));
    parentPort!.postMessage({ index: m.index, verdict: r.ok ? 'accept' : 'reject', errno: r.error?.errno ?? null, message: r.ok ? '' : (r.error?.kernelMessage ?? '?') });
  } catch (e) {
    parentPort!.postMessage({ index: m.index, verdict: 'crash', errno: null, message: `CRASH ${(e as Error).stack?.split('\n').slice(0, 2).join(' ')}` });
  }
});
parentPort!.postMessage({ ready: true });
