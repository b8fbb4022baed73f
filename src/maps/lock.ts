/**
 * Locks over words of a shared address space, for map state that several
 * threads (worker_threads, Web Workers) change at once.
 *
 * MapLock is the kernel's raw_spinlock_t in spirit (hashtab.c takes one per
 * bucket, ringbuf.c rb->spinlock): a word that is 0 when free, 1 when held
 * and 2 when held with sleepers (the three-state futex mutex). The fast path
 * is one compareExchange to take and one sub to give; a contended taker spins
 * briefly, then sleeps in Atomics.wait where the thread may block (Node's
 * threads, Web Workers) and keeps spinning where it may not (a browser's main
 * thread). The critical sections it guards are short (a chain walk and a value
 * copy), so spinning first is what the kernel does too.
 *
 * A thread cannot die inside a kernel spinlock, but a worker can be
 * terminated inside a map operation, leaving the word held for ever. Rather
 * than hang every other thread, a taker that has waited LOCK_TIMEOUT_MS
 * gives up with ETIMEDOUT naming the lock (as the kernel's resilient
 * bpf_res_spin_lock does) (the operation fails; a program
 * sees a helper error).
 *
 * SeqCount is the kernel's seqcount_t: writers (holding the lock) make it odd
 * while they change the structure; a reader that saw the same even count
 * before and after its walk saw no change, so lookups — the hot operation of
 * a program — take no lock at all (the kernel's lookups run under RCU).
 */
import { TsbpfError } from '../errors.js';
import { nowMs } from '../clock.js';

const SPINS = 64;
/** How long a taker waits before reporting a lock that is never released (see the module comment). */
const LOCK_TIMEOUT_MS = 5000;

let blockingOk: boolean | undefined;
/** May this thread block in Atomics.wait (not on a browser's main thread)? */
function canBlock(): boolean {
  if (blockingOk === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockingOk = true;
    } catch {
      blockingOk = false;
    }
  }
  return blockingOk;
}

export class MapLock {
  /** the give-up time of every MapLock (tests shorten it) */
  static timeoutMs = LOCK_TIMEOUT_MS;
  /**
   * @param words an Int32Array over the shared memory
   * @param index the lock word's index in `words` (the word must be 4-aligned, as Atomics needs)
   */
  constructor(
    readonly words: Int32Array,
    readonly index: number,
    /** what the lock guards, for the EDEADLK message */
    readonly name = 'map lock',
  ) {
    if (!(words.buffer instanceof SharedArrayBuffer)) throw new TsbpfError('EINVAL', 'a MapLock needs a shared memory');
  }

  acquire(): void {
    if (Atomics.compareExchange(this.words, this.index, 0, 1) !== 0) this.contended();
  }

  /** Take the lock if it is free; true when taken. */
  tryAcquire(): boolean {
    return Atomics.compareExchange(this.words, this.index, 0, 1) === 0;
  }

  private contended(): void {
    const w = this.words;
    const i = this.index;
    for (let n = 0; n < SPINS; n++) {
      if (Atomics.load(w, i) === 0 && Atomics.compareExchange(w, i, 0, 1) === 0) return;
    }
    const block = canBlock();
    const t0 = nowMs();
    // Mark "held with sleepers" so the holder's release wakes one of us.
    let c = Atomics.exchange(w, i, 2);
    while (c !== 0) {
      if (block) Atomics.wait(w, i, 2, 100);
      if (nowMs() - t0 > MapLock.timeoutMs)
        throw new TsbpfError('ETIMEDOUT', `${this.name} still held after ${MapLock.timeoutMs} ms: was a thread terminated inside a map operation?`);
      c = Atomics.exchange(w, i, 2);
    }
  }

  release(): void {
    const w = this.words;
    const i = this.index;
    if (Atomics.sub(w, i, 1) !== 1) {
      // There were sleepers (the word was 2): free it and wake one.
      Atomics.store(w, i, 0);
      Atomics.notify(w, i, 1);
    }
  }

  /** Is the lock held right now (by anyone)? For tests and assertions. */
  get held(): boolean {
    return Atomics.load(this.words, this.index) !== 0;
  }
}

/**
 * A word of this thread's own (each worker evaluates this module anew): a
 * read-modify-write on it orders the reader's plain loads before its second
 * look at the count, as the kernel's read_seqcount_retry does with smp_rmb()
 * (JavaScript has no fence; an atomic RMW is one, and on a word no other
 * thread touches it costs no cache-line traffic).
 */
// (Browsers without cross-origin isolation have no SharedArrayBuffer, and no shared runtime either.)
const FENCE = typeof SharedArrayBuffer === 'function' ? new Int32Array(new SharedArrayBuffer(4)) : new Int32Array(1);

/** A sequence count next to a MapLock (see the module comment). */
export class SeqCount {
  constructor(
    readonly words: Int32Array,
    readonly index: number,
  ) {}
  /** Reader: the count to pass to `retry`; odd means a writer is inside. */
  begin(): number {
    return Atomics.load(this.words, this.index);
  }
  /** Reader: did the structure change since `begin` returned `s`? */
  retry(s: number): boolean {
    Atomics.add(FENCE, 0, 0);
    return (s & 1) !== 0 || Atomics.load(this.words, this.index) !== s;
  }
  /** Writer (holding the lock): entering and leaving a change. */
  writeBegin(): void {
    Atomics.add(this.words, this.index, 1);
  }
  writeEnd(): void {
    Atomics.add(this.words, this.index, 1);
  }
}
