/**
 * Running an iterator program (SEC("iter/<target>")) as the kernel runs it
 * when its file is read (kernel/bpf/bpf_iter.c bpf_seq_read, fs/seq_file.c):
 * the program is called once per object of the target with
 * `meta->seq_num` counting the objects from 0, then once more with a NULL
 * object (the seq_ops stop call, in_stop); what it writes with
 * bpf_seq_printf / bpf_seq_write goes to the seq_file's buffer (8 pages),
 * and each read() of the file hands out what the buffer holds.
 *
 * The kernel's retry rules, kept here:
 * - an object whose output does not fit in the buffer is dropped from this
 *   read, and the program runs again on it (same seq_num) at the next read,
 *   with an empty buffer; if it did not fit in an empty buffer either, the
 *   read fails with E2BIG;
 * - a program that returns 1 ("retry the same object") fails the read with
 *   EAGAIN when the object is the read's first, else ends the read there
 *   (the next read calls it again on that object);
 * - the stop call runs once its output has fit (done_stop).
 * The reader reads until end of file or the first error, as `cat` does.
 */
import { TsbpfError } from '../errors.js';
import type { SeqOutput } from '../helpers/env.js';
import type { KernelModel, KernelObject } from './model.js';

/** PAGE_SIZE << 3: the seq_file buffer bpf_seq_read allocates. */
export const SEQ_BUF_SIZE = 8 * 4096;
/** What `cat` asks read() for at a time (coreutils' IO_BUFSIZE). */
const DEFAULT_READ_SIZE = 128 * 1024;
/** MAX_ITER_OBJECTS: objects one read visits at most. */
const MAX_ITER_OBJECTS = 1_000_000;

/** A seq_file's buffer: seq_write's and seq_bprintf's rule (whole or overflowed). */
export class SeqBuffer implements SeqOutput {
  readonly buf: Uint8Array;
  count = 0;

  constructor(readonly size = SEQ_BUF_SIZE) {
    this.buf = new Uint8Array(size);
  }

  get overflowed(): boolean {
    return this.count === this.size;
  }

  write(data: Uint8Array): boolean {
    if (this.count + data.length < this.size) {
      this.buf.set(data, this.count);
      this.count += data.length;
      return true;
    }
    this.count = this.size; // seq_set_overflow
    return false;
  }
}

/** The program's run on one object (null: the stop call) with meta->seq_num; returns its r0. */
export type IterShow<T> = (obj: T | null, seqNum: bigint) => bigint;

export interface SeqReadResult {
  output: Uint8Array;
  /** how many times the program ran */
  runs: number;
  /** the read() that failed, as `cat` would report it after printing `output` */
  error?: { errno: 'EAGAIN' | 'E2BIG'; message: string };
}

/** Read the iterator's file to its end (or its first error) in reads of `readSize` bytes. */
export function readIterator<T>(objects: readonly T[], run: IterShow<T>, seq: SeqBuffer, readSize = DEFAULT_READ_SIZE): SeqReadResult {
  let index = 0; // the target's cursor (task_iter's tid): start() finds the object there again
  let seqNum = 0n;
  let doneStop = false;
  let runs = 0;
  const chunks: Uint8Array[] = [];
  // bpf_iter_run_prog: 0 is fine, anything else is -EAGAIN
  const show = (obj: T | null): number => {
    runs++;
    return run(obj, seqNum) === 0n ? 0 : -1;
  };
  const stop = (obj: T | null): void => {
    if (obj === null && !doneStop) show(null);
  };
  const fail = (errno: 'EAGAIN' | 'E2BIG'): SeqReadResult => {
    const message =
      errno === 'EAGAIN'
        ? `read: the program asked to retry object ${seqNum} (returned 1) first in a read (Resource temporarily unavailable)`
        : `read: object ${seqNum}'s output does not fit in the ${seq.size}-byte seq buffer (Argument list too long)`;
    return { output: concat(chunks), runs, error: { errno, message } };
  };
  for (;;) {
    // one read(): bpf_seq_read
    seq.count = 0;
    let p: T | null = index < objects.length ? objects[index]! : null;
    let nObjs = 0;
    if (p !== null) {
      const e = show(p);
      if (e < 0 || seq.overflowed) {
        seq.count = 0;
        return fail(e < 0 ? 'EAGAIN' : 'E2BIG');
      }
      for (;;) {
        nObjs++;
        const offs = seq.count;
        index++;
        p = index < objects.length ? objects[index]! : null;
        if (p === null) break;
        seqNum++;
        if (seq.count >= readSize) break;
        if (nObjs >= MAX_ITER_OBJECTS) {
          if (offs === 0) return fail('EAGAIN');
          break;
        }
        const e2 = show(p);
        if (e2 < 0 || seq.overflowed) {
          seq.count = offs;
          if (offs === 0) return fail(e2 < 0 ? 'EAGAIN' : 'E2BIG');
          break;
        }
      }
    }
    const offs = seq.count;
    stop(p);
    if (p === null) {
      if (!seq.overflowed) doneStop = true;
      else {
        seq.count = offs;
        if (offs === 0) return fail('E2BIG');
      }
    }
    // copy_to_user; what does not fit the read stays for the next ones
    for (let from = 0; from < seq.count; from += readSize) chunks.push(seq.buf.slice(from, Math.min(seq.count, from + readSize)));
    if (seq.count === 0 && p === null) return { output: concat(chunks), runs };
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** union bpf_iter_link_info's task member: which tasks a task iterator visits (libbpf: bpf_iter_attach_opts.link_info). */
export interface TaskIterLinkInfo {
  /** one thread: the task whose pid is `tid` (BPF_TASK_ITER_TID) */
  tid?: number;
  /** one process: its leader, then its other threads (BPF_TASK_ITER_TGID) */
  pid?: number;
  /** a pidfd naming the process: the kit has no file descriptors, so this is refused (give `pid`) */
  pid_fd?: number;
}

/** The iterator targets the kit runs, and the context each builds. */
export const KIT_ITER_TARGETS = ['task'] as const;

/** What `task.get(path)` says as a number, 0 where the BTF lacks the field. */
function num(task: KernelObject, path: string): number {
  try {
    const v = task.get(path);
    return typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : 0;
  } catch (e) {
    if (e instanceof TsbpfError) return 0;
    throw e;
  }
}

/**
 * The tasks a task iterator visits, in the kernel's order (task_seq_get_next):
 * every task by ascending pid (find_ge_pid over the pid table; the idle task,
 * pid 0, is in no table and is not visited; tasks the test gave the same pid
 * in the order they were made); with `pid`, the process's leader then its
 * other threads in the order they were made (the thread list); with `tid`,
 * that one task.
 */
export function iterTasks(model: KernelModel, info: TaskIterLinkInfo = {}): KernelObject[] {
  // bpf_iter_attach_task
  if ([info.tid, info.pid, info.pid_fd].filter((v) => v !== undefined && v !== 0).length > 1)
    throw new TsbpfError('EINVAL', 'link_info.task: give at most one of tid, pid and pid_fd');
  if (info.pid_fd) throw new TsbpfError('EBADF', `link_info.task.pid_fd ${info.pid_fd}: the kit has no pidfds; name the process by link_info.task.pid`);
  const tasks = model.objects('task_struct').filter((t) => num(t, 'pid') > 0);
  if (info.tid) return tasks.filter((t) => num(t, 'pid') === info.tid).slice(0, 1);
  if (info.pid) {
    const leader = tasks.find((t) => num(t, 'pid') === info.pid && num(t, 'tgid') === info.pid);
    if (!leader) return [];
    return [leader, ...tasks.filter((t) => t !== leader && num(t, 'tgid') === info.pid)];
  }
  return tasks.map((t, i) => ({ t, i, pid: num(t, 'pid') })).sort((a, b) => a.pid - b.pid || a.i - b.i).map((x) => x.t);
}
