/**
 * bpf_trace_printk output from tracefs's trace_pipe (what `bpftool prog
 * tracelog` prints): the pipe is opened non-blocking and waited on with
 * epoll (Poller), so neither the event loop nor a pool thread blocks in
 * read(2) and `close()` ends the reader at once. Lines are parsed into the
 * task, CPU, timestamp and message; the pipe is shared by the whole machine,
 * so every program's output appears (filter on the message).
 */
import { closeSync, constants, openSync } from 'node:fs';
import { openSys, type Sys } from './ffi.js';
import { tracefs } from './attach.js';
import { Poller } from './poller.js';

export interface TraceLine {
  comm: string;
  pid: number;
  cpu: number;
  /** seconds since boot, as the line prints it */
  timestamp: number;
  message: string;
  line: string;
}

/** `comm-pid [cpu] flags ts: bpf_trace_printk: msg` (the tag is the function name on newer kernels too) */
const LINE = /^\s*(.+)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+\S+\s+([\d.]+):\s+(?:bpf_trace_printk:\s)?(.*)$/;

function parseTraceLine(line: string): TraceLine | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return { comm: m[1]!.trim(), pid: Number(m[2]), cpu: Number(m[3]), timestamp: Number(m[4]), message: m[5]!, line };
}

export class TracePrintkReader implements AsyncIterable<TraceLine> {
  private readonly fd: number;
  private readonly poller: Poller;
  private readonly buf = new Uint8Array(new ArrayBuffer(64 * 1024));
  private rest = '';
  private closed = false;

  private constructor(private readonly sys: Sys) {
    this.fd = openSync(`${tracefs()}/trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
    this.poller = new Poller(sys);
    this.poller.add(this.fd, 0);
  }

  static async open(): Promise<TracePrintkReader> {
    return new TracePrintkReader(await openSys());
  }

  /**
   * The complete lines readable now: at most `maxReads` reads of 64 KiB, so
   * a program that prints on every system call (this read's own included)
   * cannot keep the caller here forever.
   */
  read(maxReads = 4): TraceLine[] {
    const out: TraceLine[] = [];
    for (let i = 0; i < maxReads && !this.closed; i++) {
      const n = this.sys.read(this.fd, this.buf);
      // -EAGAIN: nothing more now; 0: end of file; other errors end this read too
      if (n <= 0) break;
      this.rest += new TextDecoder().decode(this.buf.subarray(0, n));
    }
    const lines = this.rest.split('\n');
    this.rest = lines.pop() ?? '';
    for (const l of lines) {
      const t = parseTraceLine(l);
      if (t) out.push(t);
    }
    return out;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TraceLine> {
    while (!this.closed) {
      const lines = this.read();
      for (const l of lines) yield l;
      // between batches, give the event loop a turn even when the pipe never runs dry
      if (!lines.length) await this.poller.wait();
      else await new Promise((r) => setImmediate(r));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    closeSync(this.fd);
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
