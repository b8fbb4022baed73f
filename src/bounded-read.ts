/**
 * Reading untrusted files with a limit (Node only; shared by the CLI, the
 * object layer's file loader, pin files and captures).
 *
 * Every file tsbpf reads on a user's behalf may be anything: a directory, a
 * device that never ends (/dev/zero), a sparse file of terabytes, a FIFO.
 * `readBounded` refuses more than a per-kind limit with E2BIG before it
 * allocates it (a regular file's size is checked first; a stream is read in
 * chunks and stopped one byte past the limit), and for streams checks the
 * kind's magic on the first bytes so that /dev/zero is refused at once.
 * A failed open, read or write becomes a FileError carrying the errno the
 * system reported (EISDIR stays EISDIR), never a raw Node error.
 */
import { close, closeSync, fstat, fstatSync, open, openSync, read, readSync, writeFileSync } from 'node:fs';
import { ERRNO_VALUES, TsbpfError, strerror, type Errno } from './errors.js';

const MiB = 1 << 20;

/**
 * The most a file of each kind may hold. They bound memory, not
 * correctness: each is well above what the kind legitimately needs.
 */
export const INPUT_LIMITS = {
  /** an ELF object (libbpf objects are KiB to a few MiB; the largest selftests' ~10 MiB) */
  object: 256 * MiB,
  /** a BTF blob or object carrying one (/sys/kernel/btf/vmlinux is ~6 MiB) */
  btf: 256 * MiB,
  /** bytecode, hex or assembly text: BPF_MAXINSNS-complexity programs of 1M insns are 8 MiB of bytecode */
  program: 64 * MiB,
  /** prog run data_in / ctx_in: BPF_PROG_TEST_RUN takes a few pages of data, ctx structs of bytes */
  packet: 16 * MiB,
  /** a pinned map snapshot: maps live in a 4 GiB address space */
  pin: 1024 * MiB,
  /** a pcap / pcapng capture, read whole */
  capture: 1024 * MiB,
  /** one bpf_conformance .data test */
  test: 1 * MiB,
} as const;

export type InputKind = keyof typeof INPUT_LIMITS;

/** A failed file operation: the system's errno name, the path and what was attempted. */
export class FileError extends TsbpfError {
  constructor(
    errno: Errno,
    readonly path: string,
    readonly op: 'open' | 'read' | 'write',
    /** what went wrong, without the path (`Is a directory`) */
    readonly detail = strerror(errno),
  ) {
    super(errno, `cannot ${op} ${path}: ${detail}`);
  }
}

/** Node's system errors carry the errno name in `code` ('EISDIR', 'ENOENT', ...). */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((e as NodeJS.ErrnoException).code!);
}

/** A Node system error as a FileError with the same errno name (EIO for names tsbpf does not know). */
export function fileError(path: string, op: FileError['op'], e: unknown): TsbpfError {
  if (e instanceof TsbpfError) return e;
  if (!isSystemError(e)) return new FileError('EIO', path, op, (e as Error)?.message ?? String(e));
  const code = e.code as Errno;
  return code in ERRNO_VALUES ? new FileError(code, path, op) : new FileError('EIO', path, op, e.message);
}

export interface ReadOptions {
  /** the kind of file (its limit, and the word in messages) */
  kind: InputKind;
  /** override the kind's limit (bytes) */
  limit?: number;
  /**
   * For streams (devices, FIFOs, stdin), where the size is not known: the
   * prefixes one of which the input must start with, and the error when it
   * does not, checked on the first bytes so that an endless stream of the
   * wrong thing is refused at once. Regular files are left to their parser.
   */
  magic?: { prefixes: ReadonlyArray<ReadonlyArray<number>>; error: () => TsbpfError };
}

function tooBig(path: string, o: ReadOptions, size?: number): FileError {
  const limit = o.limit ?? INPUT_LIMITS[o.kind];
  return new FileError('E2BIG', path, 'read', `${size !== undefined ? `${size} bytes, ` : ''}more than the ${limit}-byte limit for ${o.kind} files`);
}

function checkMagic(head: Uint8Array, o: ReadOptions): void {
  if (!o.magic) return;
  const longest = Math.max(...o.magic.prefixes.map((p) => p.length));
  if (head.length < longest) return;
  if (!o.magic.prefixes.some((p) => p.every((b, i) => head[i] === b))) throw o.magic.error();
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

const CHUNK = MiB;
const displayName = (path: string | number): string => (typeof path === 'number' ? (path === 0 ? '<stdin>' : `fd ${path}`) : path);

/**
 * The read loop's state, shared by the sync and async readers: what to read next, and the checks on what came.
 * A read may return less than asked (sysfs files such as /sys/kernel/btf/vmlinux give one page per
 * read), so the rest of the current buffer is filled before another is allocated.
 */
class Collector {
  private readonly chunks: Uint8Array[] = [];
  private total = 0;
  private readonly limit: number;
  private readonly regular: boolean;
  private readonly size: number;
  /** the buffer being filled, and how much of it is */
  private buf?: Uint8Array;
  private fill = 0;

  constructor(
    private readonly name: string,
    private readonly o: ReadOptions,
    st: { isDirectory(): boolean; isFile(): boolean; size: number },
  ) {
    this.limit = o.limit ?? INPUT_LIMITS[o.kind];
    if (st.isDirectory()) throw new FileError('EISDIR', name, 'read');
    this.regular = st.isFile();
    if (this.regular && st.size > this.limit) throw tooBig(name, o, st.size);
    this.size = st.size;
  }

  /** Where the next read goes: the rest of the current buffer, else a new one (a regular file's whole size plus a byte to notice growth, else a chunk). */
  next(): Uint8Array {
    if (!this.buf || this.fill === this.buf.length) {
      if (this.buf) this.chunks.push(this.buf);
      const want = this.regular && !this.buf ? Math.min(this.size + 1, this.limit + 1) : Math.min(CHUNK, this.limit + 1 - this.total);
      this.buf = new Uint8Array(Math.max(1, want));
      this.fill = 0;
    }
    return this.buf.subarray(this.fill);
  }

  /** Take the `n` bytes a read put where next() said; true at the end of the file. */
  take(n: number): boolean {
    if (n === 0) return true;
    const first = this.total === 0;
    this.fill += n;
    this.total += n;
    if (this.total > this.limit) throw tooBig(this.name, this.o);
    if (!this.regular && first) checkMagic(this.buf!.subarray(0, n), this.o);
    return false;
  }

  bytes(): Uint8Array {
    const last = this.buf ? [this.buf.subarray(0, this.fill)] : [];
    return concat([...this.chunks, ...last], this.total);
  }
}

/** Read a whole file (or `0` for standard input), refusing more than the kind's limit. */
export function readBounded(path: string | number, o: ReadOptions): Uint8Array {
  const name = displayName(path);
  let fd: number;
  try {
    fd = typeof path === 'number' ? path : openSync(path, 'r');
  } catch (e) {
    throw fileError(name, 'open', e);
  }
  try {
    const c = new Collector(name, o, fstatSync(fd));
    for (;;) {
      const buf = c.next();
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // non-blocking stdin: wait for data
        continue;
      }
      if (c.take(n)) return c.bytes();
    }
  } catch (e) {
    throw fileError(name, 'read', e);
  } finally {
    if (typeof path !== 'number') closeSync(fd);
  }
}

/** A node:fs callback call as a promise (node:fs/promises would load Node's stream modules into every command's start). */
function call<T>(f: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, value) => (err ? reject(err) : resolve(value))));
}

/** readBounded without blocking the event loop (for the library's async loaders). */
export async function readBoundedAsync(path: string, o: ReadOptions): Promise<Uint8Array> {
  let fd: number;
  try {
    fd = await call<number>((cb) => open(path, 'r', cb));
  } catch (e) {
    throw fileError(path, 'open', e);
  }
  try {
    const c = new Collector(path, o, await call((cb) => fstat(fd, cb)));
    for (;;) {
      const buf = c.next();
      if (c.take(await call<number>((cb) => read(fd, buf, 0, buf.length, null, cb)))) return c.bytes();
    }
  } catch (e) {
    throw fileError(path, 'read', e);
  } finally {
    await call<void>((cb) => close(fd, (err) => cb(err, undefined)));
  }
}

/** Write a whole file; a failure is a FileError with the system's errno (ENOENT for a missing directory, EISDIR, EACCES, ...). */
export function writeOutput(path: string, bytes: Uint8Array | string): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw fileError(path, 'write', e);
  }
}

/** Magic numbers of the kinds that have one. */
export const MAGIC = {
  elf: [0x7f, 0x45, 0x4c, 0x46],
  /** BTF_MAGIC 0xeb9f, little- and big-endian */
  btfLe: [0x9f, 0xeb],
  btfBe: [0xeb, 0x9f],
  /** pcap (µs and ns, both byte orders) and pcapng's section header block */
  pcap: [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x0a, 0x0d, 0x0d, 0x0a],
  ],
} as const;
