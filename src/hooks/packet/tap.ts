/**
 * A Linux TAP device driven from Node: the "wire" end of a virtual NIC.
 * Every frame the kernel transmits on the TAP (its stack sending out of the
 * interface) is read here one frame per read(2), and every frame written
 * here is received by the kernel as if it had arrived on the interface
 * (drivers/net/tun.c: tun_chr_read_iter / tun_chr_write_iter). tap-xdp.ts
 * puts an XDP attach point on that wire.
 *
 * Creating the device. Node has no ioctl(2), so we open /dev/net/tun
 * ourselves and let a short-lived helper process, which gets that very fd as
 * its stdin, issue ioctl(0, TUNSETIFF, {name, IFF_TAP | IFF_NO_PI}). The ioctl
 * acts on the open file description both processes share, so once the helper
 * exits Node's fd is the TAP's queue. The helper is perl (perl-base is
 * Essential on Debian, present on nearly every Linux) and, where perl is
 * missing, a 20-line C program compiled once with cc/gcc/clang into the temp
 * directory. The device is created in Node's network namespace (tun_chr_open
 * records the opener's netns), then moved with `ip link set NAME netns NS`
 * when asked: the fd stays attached, and the ifindex is re-read there (the
 * kernel keeps it when it is free in the target namespace). Closing the fd
 * removes a non-persistent TAP, as the kernel does for any tun fd.
 *
 * Reading frames. The fd is non-blocking. Two ways, chosen per device:
 * - 'event' (default): the fd is handed to libuv as a pipe handle
 *   (process.binding('pipe_wrap'): uv_pipe_open takes any pollable fd, and
 *   tun's poll is real), so frames arrive through epoll with no polling and
 *   no thread blocked; each read(2) returns exactly one frame.
 * - 'poll' (fallback when that binding is gone): readSync until EAGAIN, then
 *   a timer that backs off from 0 to 8 ms while the wire is idle.
 * A blocking read on the libuv thread pool was rejected: a read blocked in
 * tun_ring_recv holds a file reference, so close() neither wakes it nor
 * removes the device, and the pending request keeps Node's loop alive.
 * Frames are written with writeSync (one write, one frame: a stream's writev
 * would glue queued frames into one).
 */
import { closeSync, constants as fsc, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { constants as osc, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { TsbpfError, type Errno, ERRNO_VALUES } from '../../errors.js';
import type { NetDevice } from '../../runtime/netdev.js';

const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
/** IFNAMSIZ - 1 */
const MAX_NAME = 15;

/** TUNSETIFF = _IOW('T', 202, int): the direction bits differ on mips, powerpc and sparc. */
function tunsetiff(): number {
  const highWrite = ['mips', 'mipsel', 'ppc', 'ppc64', 'sparc', 'sparc64'].includes(process.arch);
  return (highWrite ? 0x80000000 : 0x40000000) + (4 << 16) + (0x54 << 8) + 202;
}

export interface TapOptions {
  /** interface name (up to 15 characters); default: the kernel picks tapN */
  name?: string;
  /** move the device into this network namespace (`ip netns` name) after creating it */
  netns?: string;
  /** bring the link up (in its namespace) */
  up?: boolean;
  /** how frames are read: 'event' (epoll through libuv; default when available) or 'poll' */
  io?: 'event' | 'poll';
  /** which helper issues TUNSETIFF: 'auto' (perl, else C), 'perl' or 'c' */
  helper?: 'auto' | 'perl' | 'c';
}

export interface TapStats {
  /** frames read: transmitted by the kernel on the device */
  rxFrames: number;
  rxBytes: number;
  /** frames written: received by the kernel on the device */
  txFrames: number;
  txBytes: number;
  /** writes the kernel refused (device down, frame too long, ...) */
  txErrors: number;
}

const open = new Map<number, TapDevice>();

export class TapDevice implements NetDevice {
  readonly name: string;
  /** the ifindex in the device's namespace */
  readonly ifindex: number;
  /** MAC address, "aa:bb:cc:dd:ee:ff" */
  readonly mac: string;
  readonly mtu: number;
  readonly rxQueues = 1;
  readonly netns: string | undefined;
  readonly io: 'event' | 'poll';
  readonly stats: TapStats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txErrors: 0 };
  private fd: number;
  private closed = false;
  private consumer: ((frame: Uint8Array) => void) | undefined;
  private sock: Socket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private idle = 0;
  private readonly rbuf: Buffer | undefined;

  private constructor(fd: number, name: string, info: { ifindex: number; mac: string; mtu: number }, netns: string | undefined, io: 'event' | 'poll') {
    this.fd = fd;
    this.name = name;
    this.ifindex = info.ifindex;
    this.mac = info.mac;
    this.mtu = info.mtu;
    this.netns = netns;
    this.io = io;
    if (io === 'poll') this.rbuf = Buffer.alloc(65536);
  }

  /** Create (or attach to a persistent) TAP device. Needs CAP_NET_ADMIN (root) on Linux. */
  static open(opts: TapOptions = {}): TapDevice {
    if (process.platform !== 'linux') throw new TsbpfError('EOPNOTSUPP', 'TAP devices exist only on Linux');
    const want = opts.name ?? '';
    if (want.length > MAX_NAME || /[\s/:]/.test(want)) throw new TsbpfError('EINVAL', `bad interface name ${JSON.stringify(want)} (up to ${MAX_NAME} characters, no spaces, '/' or ':')`);
    let fd: number;
    try {
      fd = openSync('/dev/net/tun', fsc.O_RDWR | fsc.O_NONBLOCK);
    } catch (e) {
      const code = (e as { code?: string }).code;
      const denied = code === 'EACCES' || code === 'EPERM';
      const hint = code === 'ENOENT' ? ' (no tun driver: modprobe tun)' : denied ? ' (TAP devices need root: CAP_NET_ADMIN)' : '';
      throw new TsbpfError(code === 'ENOENT' ? 'ENODEV' : denied ? 'EPERM' : 'EINVAL', `/dev/net/tun: ${(e as Error).message}${hint}`);
    }
    let name: string;
    let info: { ifindex: number; mac: string; mtu: number };
    try {
      name = setIff(fd, want, opts.helper ?? 'auto');
      info = sysInfo(name);
      if (opts.netns !== undefined) {
        ipCmd(['link', 'set', 'dev', name, 'netns', opts.netns]);
        info = ipInfo(name, opts.netns);
      }
      // Redirects name devices by ifindex (bpf_redirect, devmap values): two open TAPs with one
      // ifindex (possible once one was moved into a namespace that had it) would be ambiguous.
      const other = open.get(info.ifindex);
      if (other) throw new TsbpfError('EEXIST', `${name} has ifindex ${info.ifindex} in ${opts.netns ?? 'this namespace'}, as the open TAP ${other.name} has: redirect targets would be ambiguous`);
      if (opts.up) ipCmd([...(opts.netns !== undefined ? ['-n', opts.netns] : []), 'link', 'set', 'dev', name, 'up']);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    let io = opts.io ?? 'event';
    if (io === 'event' && !pipeBinding()) io = 'poll';
    const tap = new TapDevice(fd, name, info, opts.netns, io);
    open.set(tap.ifindex, tap);
    return tap;
  }

  /** The open TAP device with this ifindex (redirect targets), if any. */
  static byIfindex(ifindex: number): TapDevice | undefined {
    return open.get(ifindex);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Where frames read from the device go (one call per frame, the frame's
   * bytes are the callee's to keep). Setting a consumer starts reading;
   * undefined stops it (frames then wait in the kernel's queue, up to its
   * txqueuelen, like a NIC nobody polls).
   */
  setConsumer(fn: ((frame: Uint8Array) => void) | undefined): void {
    if (this.closed) throw new TsbpfError('EBADF', `TAP ${this.name} is closed`);
    this.consumer = fn;
    if (fn) this.startReading();
    else this.stopReading();
  }

  /** Hand a frame to the kernel, as received on this interface. False (and counted) when the kernel refuses it. */
  write(frame: Uint8Array): boolean {
    if (this.closed) return false;
    try {
      const n = writeSync(this.fd, frame);
      this.stats.txFrames++;
      this.stats.txBytes += n;
      return true;
    } catch {
      this.stats.txErrors++;
      return false;
    }
  }

  /** Close the fd (a non-persistent TAP disappears). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.consumer = undefined;
    if (open.get(this.ifindex) === this) open.delete(this.ifindex);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sock) {
      // The pipe handle owns the fd: destroying it closes the fd.
      this.sock.destroy();
      this.sock = undefined;
    } else closeSync(this.fd);
    this.fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private deliver(frame: Uint8Array): void {
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    this.consumer?.(frame);
  }

  private startReading(): void {
    if (this.io === 'event') {
      if (!this.sock) {
        const { Pipe, constants } = pipeBinding()!;
        const handle = new Pipe(constants.SOCKET);
        const rc = handle.open(this.fd);
        if (rc !== 0) throw new TsbpfError('EINVAL', `TAP ${this.name}: libuv cannot poll the fd (${rc})`);
        // `handle` (a Node-internal Pipe) is an undocumented option of net.Socket, absent from its types
        const sock = new Socket({ handle, readable: true, writable: false } as unknown as ConstructorParameters<typeof Socket>[0]);
        // Flowing mode hands over each read(2) as its own chunk: one frame per 'data' event.
        sock.on('data', (b: Buffer) => this.deliver(b));
        sock.on('error', () => undefined);
        this.sock = sock;
      } else this.sock.resume();
      return;
    }
    if (!this.timer) this.poll();
  }

  private stopReading(): void {
    if (this.sock) this.sock.pause();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private poll(): void {
    this.timer = undefined;
    if (this.closed || !this.consumer) return;
    let got = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.rbuf!, 0, this.rbuf!.length, null);
      } catch {
        // EAGAIN: the queue is empty (any other error ends this round too; the next retries)
        break;
      }
      if (n <= 0) break;
      got++;
      const f = new Uint8Array(n);
      f.set(this.rbuf!.subarray(0, n));
      this.deliver(f);
      if (this.closed || !this.consumer) return;
    }
    // Busy wire: look again at once; idle wire: back off to 8 ms.
    this.idle = got ? 0 : Math.min(8, this.idle ? this.idle * 2 : 1);
    this.timer = setTimeout(() => this.poll(), got ? 0 : this.idle);
  }
}

interface PipeBinding {
  Pipe: new (type: number) => { open(fd: number): number };
  constants: { SOCKET: number };
}
let pipeB: PipeBinding | null | undefined;
/** libuv's pipe handle class, when this Node still exposes it. */
function pipeBinding(): PipeBinding | undefined {
  if (pipeB === undefined) {
    try {
      // process.binding is Node-internal and deprecated, so @types/node does not declare it
      const b = (process as unknown as { binding(n: string): PipeBinding }).binding('pipe_wrap');
      pipeB = typeof b?.Pipe === 'function' ? b : null;
    } catch {
      pipeB = null;
    }
  }
  return pipeB ?? undefined;
}

/*
 * Both helpers end by setting O_NONBLOCK again on the shared file
 * description: libuv makes a child's stdio blocking before exec, and that
 * flag belongs to the description Node reads from too.
 */
const PERL_SETIFF =
  'use Fcntl; my $r = pack("a16 s x22", $ARGV[0], $ARGV[1]); ioctl(STDIN, $ARGV[2], $r) or do { print STDERR "errno ", $!+0, "\\n"; exit 1 }; ' +
  'my $fl = fcntl(STDIN, F_GETFL, 0) or do { print STDERR "errno ", $!+0, "\\n"; exit 1 }; fcntl(STDIN, F_SETFL, $fl | O_NONBLOCK) or do { print STDERR "errno ", $!+0, "\\n"; exit 1 }; print unpack("Z16", $r);';

const C_SETIFF = `#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
int main(int argc, char **argv) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (argc > 1) strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(0, TUNSETIFF, &ifr) < 0) { fprintf(stderr, "errno %d\\n", errno); return 1; }
  int fl = fcntl(0, F_GETFL);
  if (fl < 0 || fcntl(0, F_SETFL, fl | O_NONBLOCK) < 0) { fprintf(stderr, "errno %d\\n", errno); return 1; }
  fputs(ifr.ifr_name, stdout);
  return 0;
}
`;

/** Run TUNSETIFF on `fd` through a helper; returns the device's name. */
function setIff(fd: number, name: string, which: 'auto' | 'perl' | 'c'): string {
  let r: ReturnType<typeof spawnSync> | undefined;
  if (which !== 'c') {
    r = spawnSync('perl', ['-e', PERL_SETIFF, name, String(IFF_TAP | IFF_NO_PI), String(tunsetiff())], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
    if (r.error && which === 'perl') throw new TsbpfError('ENOENT', `perl is needed to create a TAP device: ${r.error.message}`);
    if (r.error) r = undefined;
  }
  if (!r) {
    const bin = cHelper();
    r = spawnSync(bin, [name], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
    if (r.error) throw new TsbpfError('ENOENT', `${bin}: ${r.error.message}`);
  }
  if (r.status !== 0) {
    const m = /errno (\d+)/.exec(String(r.stderr));
    const num = m ? Number(m[1]) : 0;
    const errno = errnoName(num);
    const why = errno === 'EPERM' ? ' (creating a TAP needs CAP_NET_ADMIN)' : errno === 'EBUSY' ? ' (a device of that name exists and is not a free TAP)' : '';
    throw new TsbpfError(errno, `TUNSETIFF ${name || '(any)'} failed: ${m ? osErrName(num) : String(r.stderr).trim()}${why}`);
  }
  return String(r.stdout).trim();
}

function osErrName(n: number): string {
  return Object.entries(osc.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;
}
function errnoName(n: number): Errno {
  const hit = (Object.keys(ERRNO_VALUES) as Errno[]).find((k) => ERRNO_VALUES[k] === n);
  return hit ?? 'EINVAL';
}

/** The C helper, compiled once per user into the temp directory. */
function cHelper(): string {
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `tsbpf-${uid}`);
  const bin = join(dir, 'tunsetiff-2');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // We run what is in there (as root, usually): the directory must be ours and closed to others,
  // or someone could have planted the helper.
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) throw new TsbpfError('EPERM', `${dir} is not a private directory of this user: not running a helper from it`);
  if (existsSync(bin)) return bin;
  const src = join(dir, `tunsetiff-${process.pid}.c`);
  writeFileSync(src, C_SETIFF);
  const tmpBin = `${bin}.${process.pid}`;
  try {
    for (const cc of ['cc', 'gcc', 'clang', 'clang-19']) {
      const r = spawnSync(cc, ['-O2', '-o', tmpBin, src], { stdio: 'pipe' });
      if (r.status === 0) {
        // rename is atomic: a concurrent process sees either no helper or a whole one
        renameSync(tmpBin, bin);
        return bin;
      }
    }
  } finally {
    rmSync(src, { force: true });
  }
  throw new TsbpfError('ENOENT', 'creating a TAP device needs perl or a C compiler (cc, gcc or clang) for the TUNSETIFF helper');
}

function sysInfo(name: string): { ifindex: number; mac: string; mtu: number } {
  const rd = (f: string): string => readFileSync(`/sys/class/net/${name}/${f}`, 'utf8').trim();
  return { ifindex: Number(rd('ifindex')), mac: rd('address'), mtu: Number(rd('mtu')) };
}

function ipCmd(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) throw new TsbpfError('ENOENT', `ip (iproute2) is needed: ${r.error.message}`);
  if (r.status !== 0) throw new TsbpfError('EINVAL', `ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function ipInfo(name: string, netns: string): { ifindex: number; mac: string; mtu: number } {
  const j = JSON.parse(ipCmd(['-n', netns, '-j', 'link', 'show', 'dev', name])) as Array<{ ifindex: number; address: string; mtu: number }>;
  const d = j[0];
  if (!d) throw new TsbpfError('ENODEV', `${name} is not in namespace ${netns}`);
  return { ifindex: d.ifindex, mac: d.address, mtu: d.mtu };
}
