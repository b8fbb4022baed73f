/**
 * The system calls the kernel backend makes, through koffi (a C FFI for
 * Node.js that ships prebuilt binaries, so it installs without a compiler;
 * README "The kernel backend's FFI"). This is the only module that imports
 * koffi, and it does so lazily (`openSys()`), so `import 'tsbpf'` and the
 * browser never load it.
 *
 * Every call that fails throws a KernelError with the errno name; EPERM
 * names the capability bpf(2) wanted, as libbpf's messages do.
 */
import { TsbpfError, ERRNO_VALUES, strerror, type Errno } from '../errors.js';

/** __NR_bpf and __NR_perf_event_open per architecture (arch/x86/entry/syscalls, include/uapi/asm-generic/unistd.h). */
const SYSCALLS: Record<string, { bpf: number; perfEventOpen: number }> = {
  x64: { bpf: 321, perfEventOpen: 298 },
  arm64: { bpf: 280, perfEventOpen: 241 },
};

/** errno numbers to names (the inverse of ERRNO_VALUES) */
export const ERRNO_NAMES = new Map<number, Errno>(Object.entries(ERRNO_VALUES).map(([k, v]) => [v, k as Errno]));

/** A failed system call, with the kernel's errno. */
export class KernelError extends TsbpfError {
  constructor(
    errno: Errno,
    message: string,
    /** the errno number as the kernel returned it */
    readonly errnoNumber: number,
  ) {
    super(errno, message);
  }
}

/**
 * The running kernel lacks what an operation needs (a config option, a
 * link type, a PMU): `feature` names it, `config` the option that gives it.
 */
export class KernelFeatureError extends KernelError {
  constructor(
    errno: Errno,
    message: string,
    errnoNumber: number,
    /** what is missing, e.g. "kprobe.multi links" */
    readonly feature: string,
    /** the kernel config option that provides it, e.g. CONFIG_FPROBE */
    readonly config?: string,
  ) {
    super(errno, message, errnoNumber);
  }
}

/** What EPERM from bpf(2) means, said once for every error that carries it. */
export function permissionHint(n: number): string {
  return n === ERRNO_VALUES.EPERM ? ' (bpf(2) needs root or CAP_BPF, plus CAP_PERFMON for tracing and CAP_NET_ADMIN for networking programs)' : '';
}

export function kernelError(call: string, n: number, what?: string): KernelError {
  const name = ERRNO_NAMES.get(n);
  const hint = permissionHint(n);
  return new KernelError(name ?? 'EINVAL', `${call}${what ? ` ${what}` : ''}: ${name ? strerror(name) : `errno ${n}`}${hint}`, n);
}

type Fn = ((...args: unknown[]) => unknown) & { async(...args: unknown[]): void };

interface Koffi {
  load(path: string): { func(name: string, ret: string, args: string[]): Fn; func(decl: string): Fn };
  errno(): number;
  errno(v: number): number;
  address(v: unknown): bigint;
  view(ptr: unknown, len: number): ArrayBuffer;
}

export const PROT_READ = 1;
export const PROT_WRITE = 2;
const MAP_SHARED = 1;
const EPOLLIN = 1;

/** The system calls, bound once per process. */
export class Sys {
  readonly nr: { bpf: number; perfEventOpen: number };
  private readonly fn: Record<string, Fn>;
  constructor(private readonly k: Koffi) {
    const nr = SYSCALLS[process.arch];
    if (!nr) throw new TsbpfError('ENOSYS', `the kernel backend knows the bpf(2) syscall number of x64 and arm64, not ${process.arch}`);
    this.nr = nr;
    const libc = k.load('libc.so.6');
    this.fn = {
      bpf: libc.func('syscall', 'long', ['long', 'long', 'void *', 'unsigned long']),
      perf: libc.func('syscall', 'long', ['long', 'void *', 'int', 'int', 'int', 'unsigned long']),
      close: libc.func('int close(int)'),
      ioctl: libc.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']),
      ioctlPtr: libc.func('ioctl', 'int', ['int', 'unsigned long', 'void *']),
      mmap: libc.func('void *mmap(void *, size_t, int, int, int, long)'),
      munmap: libc.func('int munmap(void *, size_t)'),
      epollCreate: libc.func('int epoll_create1(int)'),
      epollCtl: libc.func('int epoll_ctl(int, int, int, void *)'),
      epollWait: libc.func('int epoll_wait(int, void *, int, int)'),
      eventfd: libc.func('int eventfd(unsigned int, int)'),
      write: libc.func('long write(int, void *, size_t)'),
      read: libc.func('long read(int, void *, size_t)'),
      setsockopt: libc.func('int setsockopt(int, int, int, void *, unsigned int)'),
      socket: libc.func('int socket(int, int, int)'),
      send: libc.func('long send(int, void *, size_t, int)'),
      recv: libc.func('long recv(int, void *, size_t, int)'),
      ifNameToIndex: libc.func('unsigned int if_nametoindex(const char *)'),
      getpagesize: libc.func('int getpagesize()'),
      setaffinity: libc.func('int sched_setaffinity(int, size_t, void *)'),
    };
  }

  private check(call: string, rc: number | bigint, what?: string): number {
    const n = Number(rc);
    if (n < 0) throw kernelError(call, this.k.errno(), what);
    return n;
  }

  /** bpf(cmd, attr, sizeof attr): the result, or a KernelError. */
  bpf(cmd: number, attr: Uint8Array, what?: string): number {
    return this.check(`bpf(${BPF_CMD_NAMES[cmd] ?? cmd})`, this.fn.bpf!(this.nr.bpf, cmd, attr, attr.length) as number, what);
  }

  /** bpf(2) without throwing: the result or -errno (feature probes). */
  bpfTry(cmd: number, attr: Uint8Array): number {
    const rc = Number(this.fn.bpf!(this.nr.bpf, cmd, attr, attr.length));
    return rc < 0 ? -this.k.errno() : rc;
  }

  perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number, what?: string): number {
    return this.check('perf_event_open', this.fn.perf!(this.nr.perfEventOpen, attr, pid, cpu, groupFd, flags) as number, what);
  }

  close(fd: number): void {
    if (fd >= 0) this.fn.close!(fd);
  }

  ioctl(fd: number, req: number, arg: number | Uint8Array, what?: string): number {
    const rc = arg instanceof Uint8Array ? this.fn.ioctlPtr!(fd, req, arg) : this.fn.ioctl!(fd, req, arg);
    return this.check('ioctl', rc as number, what);
  }

  /** mmap(NULL, len, prot, MAP_SHARED, fd, off): the mapping's address. */
  mmap(len: number, prot: number, fd: number, off: number, what?: string): unknown {
    const p = this.fn.mmap!(null, len, prot, MAP_SHARED, fd, off);
    if (p === null || this.k.address(p) === 0xffffffffffffffffn) throw kernelError('mmap', this.k.errno(), what);
    return p;
  }
  munmap(p: unknown, len: number): void {
    this.fn.munmap!(p, len);
  }
  /** The mapped bytes as an ArrayBuffer (no copy): valid until munmap. */
  view(p: unknown, len: number): ArrayBuffer {
    return this.k.view(p, len);
  }
  /** The address of a buffer's bytes (for pointers inside bpf_attr). Buffers are made over their own ArrayBuffer, which V8 never moves. */
  address(buf: Uint8Array): bigint {
    return this.k.address(buf) ;
  }

  epollCreate(): number {
    return this.check('epoll_create1', this.fn.epollCreate!(0x80000 /* EPOLL_CLOEXEC */) as number);
  }
  /** EPOLL_CTL_ADD fd for EPOLLIN with `data` in epoll_data. */
  epollAdd(epfd: number, fd: number, data: number): void {
    const ev = new Uint8Array(new ArrayBuffer(16));
    const dv = new DataView(ev.buffer);
    dv.setUint32(0, EPOLLIN, true);
    // struct epoll_event is packed on x86-64 (data at 4), naturally aligned elsewhere (data at 8)
    dv.setUint32(process.arch === 'x64' ? 4 : 8, data, true);
    this.check('epoll_ctl', this.fn.epollCtl!(epfd, 1 /* EPOLL_CTL_ADD */, fd, ev) as number);
  }
  /** epoll_wait on a thread of libuv's pool, so the event loop never blocks: the `data` words of ready fds. */
  epollWait(epfd: number, max: number, timeoutMs: number): Promise<number[]> {
    const stride = process.arch === 'x64' ? 12 : 16;
    const off = process.arch === 'x64' ? 4 : 8;
    const buf = new Uint8Array(new ArrayBuffer(stride * max));
    return new Promise((resolve, reject) => {
      this.fn.epollWait!.async(epfd, buf, max, timeoutMs, (err: unknown, rc: number) => {
        if (err) return reject(err);
        if (rc < 0) {
          const e = this.k.errno();
          if (e === ERRNO_VALUES.EINTR) return resolve([]);
          return reject(kernelError('epoll_wait', e));
        }
        const dv = new DataView(buf.buffer);
        const out: number[] = [];
        for (let i = 0; i < rc; i++) out.push(dv.getUint32(i * stride + off, true));
        resolve(out);
      });
    });
  }
  eventfd(): number {
    return this.check('eventfd', this.fn.eventfd!(0, 0x80000 /* EFD_CLOEXEC */) as number);
  }
  /** Add 1 to an eventfd's counter (wakes its epoll waiters). */
  signal(efd: number): void {
    const one = new Uint8Array(new ArrayBuffer(8));
    one[0] = 1;
    this.fn.write!(efd, one, 8);
  }
  /** read(2) into `buf`: bytes read, or -errno. */
  read(fd: number, buf: Uint8Array): number {
    const rc = Number(this.fn.read!(fd, buf, buf.length));
    return rc < 0 ? -this.k.errno() : rc;
  }
  setsockopt(fd: number, level: number, name: number, val: Uint8Array, what?: string): void {
    this.check('setsockopt', this.fn.setsockopt!(fd, level, name, val, val.length) as number, what);
  }
  socket(domain: number, type: number, protocol: number, what?: string): number {
    return this.check('socket', this.fn.socket!(domain, type, protocol) as number, what);
  }
  send(fd: number, buf: Uint8Array, what?: string): number {
    return this.check('send', this.fn.send!(fd, buf, buf.length, 0) as number, what);
  }
  /** recv(2) into buf (blocking): the length received. */
  recv(fd: number, buf: Uint8Array, what?: string): number {
    return this.check('recv', this.fn.recv!(fd, buf, buf.length, 0) as number, what);
  }
  /**
   * Run the calling thread on `cpu` only (sched_setaffinity): test runs and
   * map updates from this thread then land in that CPU's per-CPU slots, as
   * `taskset -c N bpftool ...` does.
   */
  pinThreadToCpu(cpu: number): void {
    const mask = new Uint8Array(new ArrayBuffer(128));
    mask[cpu >> 3] = 1 << (cpu & 7);
    this.check('sched_setaffinity', this.fn.setaffinity!(0, mask.length, mask) as number, `CPU ${cpu}`);
  }
  pageSize(): number {
    return this.fn.getpagesize!() as number;
  }
  ifNameToIndex(name: string): number {
    const i = this.fn.ifNameToIndex!(name) as number;
    if (!i) throw new KernelError('ENODEV', `no network interface ${name}`, ERRNO_VALUES.ENODEV);
    return i;
  }
}

/** The bpf(2) command numbers (enum bpf_cmd) the backend uses. */
export const BPF_CMD = {
  MAP_CREATE: 0,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5,
  OBJ_PIN: 6,
  OBJ_GET: 7,
  PROG_ATTACH: 8,
  PROG_DETACH: 9,
  PROG_TEST_RUN: 10,
  PROG_GET_NEXT_ID: 11,
  MAP_GET_NEXT_ID: 12,
  PROG_GET_FD_BY_ID: 13,
  MAP_GET_FD_BY_ID: 14,
  OBJ_GET_INFO_BY_FD: 15,
  RAW_TRACEPOINT_OPEN: 17,
  BTF_LOAD: 18,
  BTF_GET_FD_BY_ID: 19,
  MAP_LOOKUP_AND_DELETE_ELEM: 21,
  MAP_FREEZE: 22,
  BTF_GET_NEXT_ID: 23,
  MAP_LOOKUP_BATCH: 24,
  MAP_LOOKUP_AND_DELETE_BATCH: 25,
  MAP_UPDATE_BATCH: 26,
  MAP_DELETE_BATCH: 27,
  LINK_CREATE: 28,
  LINK_UPDATE: 29,
  LINK_GET_FD_BY_ID: 30,
  LINK_GET_NEXT_ID: 31,
  ENABLE_STATS: 32,
  LINK_DETACH: 34,
} as const;
const BPF_CMD_NAMES: Record<number, string> = Object.fromEntries(Object.entries(BPF_CMD).map(([k, v]) => [v, `BPF_${k}`]));

let sys: Promise<Sys> | undefined;

/** The process's Sys, importing koffi on first use. */
export function openSys(): Promise<Sys> {
  if (process.platform !== 'linux') return Promise.reject(new TsbpfError('ENOSYS', `the kernel backend needs Linux (this is ${process.platform})`));
  sys ??= import('koffi').then(
    (m) => new Sys(((m as { default?: unknown }).default ?? m) as Koffi),
    (e: unknown) => {
      sys = undefined;
      throw new TsbpfError('ENOSYS', `the kernel backend needs the koffi package (npm i koffi): ${(e as Error).message}`, { cause: e });
    },
  );
  return sys;
}
