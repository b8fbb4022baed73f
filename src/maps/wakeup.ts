/**
 * One consumer's place in a wait queue: what a reader's async iterator
 * sleeps on until a producer's wakeup (bpf_ringbuf_submit,
 * bpf_perf_event_output) or its own close(). At most one wait is pending,
 * since a reader is iterated by one loop at a time.
 */
export class Wakeup {
  private waiter: (() => void) | undefined;

  /** Resolves at the next wake(). */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Release the pending wait, if any. */
  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

/** Options every reader takes (both backends' ring buffer and perf buffer readers). */
export interface ReaderOptions {
  /** stop the reader (as close()) when the signal aborts: a pending `for await` ends */
  signal?: AbortSignal;
}

/**
 * Call `close` when `signal` aborts (at once when it already has). Returns
 * the function that forgets the signal, for the reader's own close().
 */
export function closeOnAbort(signal: AbortSignal | undefined, close: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    queueMicrotask(close);
    return () => {};
  }
  signal.addEventListener('abort', close, { once: true });
  return () => signal.removeEventListener('abort', close);
}
