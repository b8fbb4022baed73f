/**
 * Waiting for the kernel without spinning: an epoll set of the fds that
 * signal data (a ring buffer map fd, per-CPU perf event fds) plus an eventfd
 * that `close()` signals, waited on by epoll_wait on a thread of libuv's
 * pool (koffi's async calls), so the event loop stays free.
 */
import type { Sys } from './ffi.js';

/** epoll data word of the close eventfd */
const CLOSE = 0xffffffff;

export class Poller {
  private readonly epfd: number;
  private readonly efd: number;
  private closed = false;
  private waiting: Promise<number[]> | undefined;

  constructor(private readonly sys: Sys) {
    this.epfd = sys.epollCreate();
    this.efd = sys.eventfd();
    sys.epollAdd(this.epfd, this.efd, CLOSE);
  }

  add(fd: number, data: number): void {
    this.sys.epollAdd(this.epfd, fd, data);
  }

  /** Resolve with the data words of the fds that became ready (empty once closed). */
  async wait(): Promise<number[]> {
    if (this.closed) return [];
    this.waiting = this.sys.epollWait(this.epfd, 64, -1);
    const ready = await this.waiting;
    this.waiting = undefined;
    if (this.closed || ready.includes(CLOSE)) return [];
    return ready;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sys.signal(this.efd);
    const done = (): void => {
      this.sys.close(this.epfd);
      this.sys.close(this.efd);
    };
    // the fds are closed once the pending epoll_wait has returned (closing under it would be a use after close)
    if (this.waiting) void this.waiting.then(done, done);
    else done();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Resolve on the event loop's next turn (after the caller's synchronous code and its microtasks). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
