/**
 * Function probes: uprobe / uretprobe on JavaScript functions and methods.
 *
 * Installing: the first attach replaces the property `obj[name]` (own or
 * inherited: then the wrapper is defined on `obj` itself, so probe a
 * prototype to catch every instance) with a wrapper that runs the entry
 * programs, calls the original with the same `this` and arguments, and runs
 * the return programs; the last detach puts the original back (when the
 * property still holds the wrapper). Callers that look the method up on the
 * object are probed without any change to their code. Limits: references
 * taken before the attach (`const f = obj.m`, a destructured import, a bound
 * function) keep calling the original, as do calls from inside a module
 * that reach the function through a local binding; non-configurable or
 * non-writable properties (frozen objects, ESM namespace exports) are
 * refused with EPERM.
 *
 * The context is the x86-64 `struct pt_regs` (168 bytes), the kprobe
 * program type's context on Linux, so that programs written with libbpf's
 * PT_REGS_PARM1..6(ctx) / PT_REGS_RC(ctx) (bpf_tracing.h, with
 * __TARGET_ARCH_x86) and BPF_UPROBE/BPF_URETPROBE build and run unchanged:
 * arguments 1-6 in rdi, rsi, rdx, rcx, r8, r9 (the System V ABI order the
 * kprobe ABI uses), the return value in rax, and rip = the probe's function
 * address (an id per probed function, what bpf_get_func_ip returns).
 * Values: integers as 64-bit two's complement, other numbers as their
 * IEEE-754 bits, bigints modulo 2^64, booleans 0/1, strings (UTF-8,
 * NUL-terminated) and Uint8Arrays/Buffers copied into the address space for
 * the duration of the call and passed as pointers readable with
 * bpf_probe_read_user(_str); null, undefined and other objects are 0. Unlike
 * the kernel's uretprobe, the argument registers still hold the arguments at
 * return. An async function's return probe fires when it returns its promise.
 *
 * Cost: a hit writes only the registers some attached program can read
 * (ctx-reads.ts scans each verified program's context loads once, at
 * attach), so a string argument no program reads is not even copied; when
 * those registers hold 32-bit integers a hit allocates nothing, and the
 * program runs through the JIT's i32 entry (Executable.runCtx).
 */
import { PT_REGS, PT_REGS_SIZE } from '../uapi/ctx.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { TsbpfError } from '../errors.js';
import type { Program } from '../runtime/runtime.js';
import type { Runtime } from '../runtime/runtime.js';
import type { AddressSpace, Region } from '../memory/address-space.js';
import type { HelperDef } from '../vm/helper-abi.js';
import { getFuncIp } from '../helpers/tracing.js';
import { runOf } from '../helpers/env.js';
import { HookPoint, LITTLE_ENDIAN, memOf, type CtxBuffer, type Link, type SpaceMem } from './link.js';
import { ALL_WORDS, ctxWordsRead, type HelperCtxReads } from './ctx-reads.js';

/** Argument registers in the kprobe ABI's order (PT_REGS_PARM1..6). */
const ARG_REGS = [PT_REGS.rdi, PT_REGS.rsi, PT_REGS.rdx, PT_REGS.rcx, PT_REGS.r8, PT_REGS.r9];

/** The base of the synthetic "text" addresses probed functions get (looks like a user-space code address). */
const FUNC_IP_BASE = 0x400000n;
let nextFunc = 1n;

export { getFuncIp };

/** Register the probe helpers (bpf_get_func_ip) in a runtime before loading probe programs. */
export function enableProbeHelpers(rt: Runtime): Runtime {
  if (!rt.helpers.has(getFuncIp.id)) rt.helpers.register(getFuncIp);
  return rt;
}

/** One probed function: the wrapper, and the entry and return hook points. */
class Probe {
  readonly ip = FUNC_IP_BASE + (nextFunc++ << 4n);
  /** ip as 32-bit halves (written per event without a BigInt) */
  readonly ipLo = Number(this.ip & 0xffffffffn);
  readonly ipHi = Number(this.ip >> 32n);
  readonly entry: ProbePoint;
  readonly ret: ProbePoint;
  private installed = false;
  private original: (...a: unknown[]) => unknown;
  private wrapper: ((...a: unknown[]) => unknown) | undefined;
  private hadOwn = false;

  constructor(
    readonly target: object,
    readonly method: string | symbol,
  ) {
    const fn = (target as Record<string | symbol, unknown>)[method];
    if (typeof fn !== 'function') throw new TsbpfError('EINVAL', `uprobe: ${String(method)} is not a function on the target`);
    this.original = fn as (...a: unknown[]) => unknown;
    const label = `${fn.name || String(method)}`;
    this.entry = new ProbePoint(`uprobe/${label}`, this, () => this.update(), () => this.update());
    this.ret = new ProbePoint(`uretprobe/${label}`, this, () => this.update(), () => this.update());
  }

  private update(): void {
    const want = this.entry.active || this.ret.active;
    if (want && !this.installed) this.install();
    else if (!want && this.installed) this.uninstall();
  }

  private install(): void {
    const t = this.target as Record<string | symbol, unknown>;
    const desc = Object.getOwnPropertyDescriptor(t, this.method);
    if (desc && (!desc.configurable && !desc.writable)) throw new TsbpfError('EPERM', `uprobe: ${String(this.method)} is not writable`);
    if (Object.isFrozen(t) || (!desc && !Object.isExtensible(t))) throw new TsbpfError('EPERM', `uprobe: the target of ${String(this.method)} is frozen`);
    this.hadOwn = desc !== undefined;
    this.original = t[this.method] as (...a: unknown[]) => unknown;
    const orig = this.original;
    const { entry, ret } = this;
    // A plain function keeps `this` and `new.target`-less calls working for methods and functions alike.
    // The first six arguments (the ones that have registers) are named and the call forwards
    // `arguments` as is: V8 then allocates neither an array nor an arguments object per call.
    const wrapper = function (this: unknown, a0?: unknown, a1?: unknown, a2?: unknown, a3?: unknown, a4?: unknown, a5?: unknown): unknown {
      // eslint-disable-next-line prefer-rest-params
      const n = arguments.length;
      if (entry.links.length !== 0) entry.hit(n, a0, a1, a2, a3, a4, a5, undefined, false);
      // eslint-disable-next-line prefer-rest-params
      // the arguments object itself (array-like, not an array): no copy per call, as said above
      const r = orig.apply(this, arguments as unknown as unknown[]);
      if (ret.links.length !== 0) ret.hit(n, a0, a1, a2, a3, a4, a5, r, true);
      return r;
    };
    Object.defineProperty(wrapper, 'name', { value: orig.name });
    Object.defineProperty(wrapper, 'length', { value: orig.length });
    this.wrapper = wrapper;
    if (desc) Object.defineProperty(t, this.method, { ...desc, value: wrapper });
    else t[this.method] = wrapper;
    this.installed = true;
  }

  private uninstall(): void {
    const t = this.target as Record<string | symbol, unknown>;
    if (t[this.method] === this.wrapper) {
      if (this.hadOwn) {
        const desc = Object.getOwnPropertyDescriptor(t, this.method)!;
        Object.defineProperty(t, this.method, { ...desc, value: this.original });
      } else delete t[this.method];
    }
    this.wrapper = undefined;
    this.installed = false;
  }
}

/** The entry or return of a probed function: a hook point for kprobe programs. */
class ProbePoint extends HookPoint {
  constructor(
    name: string,
    readonly probe: Probe,
    onFirst: () => void,
    onLast: () => void,
  ) {
    super(name, ['kprobe'], PT_REGS_SIZE, onFirst, onLast);
    this.zeroCtx = false;
  }

  /** bit i set: word i (bytes 8i..8i+7) of pt_regs is read by some attached program (ctx-reads.ts) */
  private words = ALL_WORDS;
  /** the space words cached for the fast fill (memOf is a WeakMap look-up) */
  private mem: SpaceMem | undefined;
  private memSpace: AddressSpace | undefined;

  protected override linksChanged(): void {
    let m = 0;
    for (const l of this.links) m |= ptRegsReadBy(l.program);
    this.words = m;
  }

  /**
   * @internal: run the programs on one call: `n` arguments, the first six in
   * a0..a5, and the return value `rv` (isReturn). Only the registers an
   * attached program reads are written; when those all hold 32-bit integers
   * (or undefined) the event allocates nothing.
   */
  hit(n: number, a0: unknown, a1: unknown, a2: unknown, a3: unknown, a4: unknown, a5: unknown, rv: unknown, isReturn: boolean): void {
    const w = this.words;
    if (
      !LITTLE_ENDIAN ||
      ((w & W_RDI) !== 0 && !small(a0)) ||
      ((w & W_RSI) !== 0 && !small(a1)) ||
      ((w & W_RDX) !== 0 && !small(a2)) ||
      ((w & W_RCX) !== 0 && !small(a3)) ||
      ((w & W_R8) !== 0 && !small(a4)) ||
      ((w & W_R9) !== 0 && !small(a5)) ||
      ((w & W_RAX) !== 0 && !small(rv))
    ) {
      const all = [a0, a1, a2, a3, a4, a5];
      all.length = Math.min(n, 6);
      this.fire(all, rv, isReturn);
      return;
    }
    const list = this.links;
    let buf: CtxBuffer | undefined;
    try {
      for (let i = 0; i < list.length; i++) {
        const link = list[i]!;
        const space = link.program.runtime.space;
        if (buf === undefined || space !== buf.space) {
          if (buf !== undefined) this.release(buf);
          buf = this.buffer(space);
          if (w !== 0) {
            const a = buf.addr;
            if ((a & 7) !== 0) {
              // (contexts come 8-aligned from the allocator; a general fill otherwise, of the values
              // checked above: the registers no program reads get 0, so nothing is copied in)
              const vals = [a0, a1, a2, a3, a4, a5].slice(0, Math.min(n, 6)).map((v) => (small(v) ? v : 0));
              this.fillSlow(space, a, vals, small(rv) ? rv : 0, isReturn);
            } else {
              let m = this.mem;
              if (m === undefined || this.memSpace !== space || m.i32.length === 0) {
                m = this.mem = memOf(space);
                this.memSpace = space;
              }
              const i32 = m.i32;
              const k = a >> 2;
              // Absent arguments are undefined: `undefined | 0` and `undefined >> 31` are both 0.
              if ((w & W_RDI) !== 0) put32(i32, k + (PT_REGS.rdi >> 2), a0 as number);
              if ((w & W_RSI) !== 0) put32(i32, k + (PT_REGS.rsi >> 2), a1 as number);
              if ((w & W_RDX) !== 0) put32(i32, k + (PT_REGS.rdx >> 2), a2 as number);
              if ((w & W_RCX) !== 0) put32(i32, k + (PT_REGS.rcx >> 2), a3 as number);
              if ((w & W_R8) !== 0) put32(i32, k + (PT_REGS.r8 >> 2), a4 as number);
              if ((w & W_R9) !== 0) put32(i32, k + (PT_REGS.r9 >> 2), a5 as number);
              if ((w & W_RAX) !== 0) put32(i32, k + (PT_REGS.rax >> 2), isReturn ? (rv as number) : 0);
              if ((w & W_RIP) !== 0) {
                i32[k + (PT_REGS.rip >> 2)] = this.probe.ipLo | 0;
                i32[k + (PT_REGS.rip >> 2) + 1] = this.probe.ipHi | 0;
              }
            }
          }
        }
        try {
          this.execLink(link, buf.addr);
        } catch (e) {
          // A program fault must not break the application's call: it is counted on the link.
          link.errors++;
          link.lastError = e;
          continue;
        }
        link.runs++;
      }
    } finally {
      if (buf !== undefined) this.release(buf);
    }
  }

  /** @internal: run the programs on one call (any values: strings and buffers are copied in for the call). */
  fire(args: readonly unknown[], rv: unknown, isReturn: boolean): void {
    const copies: Array<[AddressSpace, number, Region]> = [];
    try {
      this.run((space, a) => this.fillSlow(space, a, args, rv, isReturn, copies));
    } finally {
      for (let i = 0; i < copies.length; i++) {
        const [sp, addr, region] = copies[i]!;
        sp.removeRegion(region);
        sp.free(addr);
      }
    }
  }

  /**
   * Every register this hook ever writes, on every event (0 when absent), so
   * the context needs no zeroing between events (HookPoint.zeroCtx off).
   * Plain numbers are written as 32-bit halves: no BigInt per register.
   */
  private fillSlow(space: AddressSpace, a: number, args: readonly unknown[], rv: unknown, isReturn: boolean, copies: Array<[AddressSpace, number, Region]> = []): void {
    let dv = memOf(space).dv;
    for (let i = 0; i < ARG_REGS.length; i++) {
      // (a copied string/buffer may grow the space and detach the older view: fetch it again)
      if (i < args.length && putReg(dv, a + ARG_REGS[i]!, args[i], space, copies)) dv = memOf(space).dv;
      else if (i >= args.length) putZero(dv, a + ARG_REGS[i]!);
    }
    if (!isReturn) putZero(dv, a + PT_REGS.rax);
    else if (putReg(dv, a + PT_REGS.rax, rv, space, copies)) dv = memOf(space).dv;
    dv.setUint32(a + PT_REGS.rip, this.probe.ipLo, true);
    dv.setUint32(a + PT_REGS.rip + 4, this.probe.ipHi, true);
  }
}

/** Word bits (ctx-reads.ts) of the registers the hook fills. */
const W_RDI = 1 << (PT_REGS.rdi >> 3);
const W_RSI = 1 << (PT_REGS.rsi >> 3);
const W_RDX = 1 << (PT_REGS.rdx >> 3);
const W_RCX = 1 << (PT_REGS.rcx >> 3);
const W_R8 = 1 << (PT_REGS.r8 >> 3);
const W_R9 = 1 << (PT_REGS.r9 >> 3);
const W_RAX = 1 << (PT_REGS.rax >> 3);
const W_RIP = 1 << (PT_REGS.rip >> 3);

/** Helpers of kprobe programs that read the context passed to them: bpf_get_func_ip reads regs->ip here. */
const KPROBE_HELPER_READS: HelperCtxReads = new Map<number, ReadonlyArray<readonly [number, number]>>([
  [BPF_FUNC.get_func_ip, [[PT_REGS.rip, 8]]],
  // perf_event_output, get_stackid, get_stack: the context names the event, no byte of it is read.
  [BPF_FUNC.perf_event_output, []],
  [BPF_FUNC.get_stackid, []],
  [BPF_FUNC.get_stack, []],
]);

const regsRead = new WeakMap<Program, number>();
/** The pt_regs words `p` can read: all of them unless the verifier accepted it (the scan trusts its checks). */
function ptRegsReadBy(p: Program): number {
  let m = regsRead.get(p);
  if (m === undefined) {
    const helpers = p.executable.image.helpers;
    m = p.executable.image.verified ? ctxWordsRead(p.insns, PT_REGS_SIZE, KPROBE_HELPER_READS, (id) => helpers.get(id)?.proto.args.length) : ALL_WORDS;
    regsRead.set(p, m);
  }
  return m;
}

/** A value the fast fill writes: a 32-bit integer, or undefined (an absent argument, 0). */
function small(v: unknown): boolean {
  return v === undefined || (typeof v === 'number' && (v | 0) === v);
}

/** A 32-bit integer (or undefined: 0) as a 64-bit register, sign-extended, in two aligned word stores. */
function put32(i32: Int32Array, k: number, v: number): void {
  i32[k] = v | 0;
  i32[k + 1] = v >> 31;
}

function putZero(dv: DataView, at: number): void {
  dv.setUint32(at, 0, true);
  dv.setUint32(at + 4, 0, true);
}

/**
 * Write one value as a 64-bit register at `at`; true when it copied bytes into
 * the space (which may have grown it: the caller's view may be stale).
 * Integers as 64-bit two's complement, other numbers as their IEEE-754 bits,
 * bigints modulo 2^64, booleans 0/1, strings and byte arrays as pointers to a
 * copy, anything else 0.
 */
function putReg(dv: DataView, at: number, v: unknown, space: AddressSpace, copies: Array<[AddressSpace, number, Region]>): boolean {
  switch (typeof v) {
    case 'number':
      if ((v | 0) === v) {
        dv.setInt32(at, v, true);
        dv.setInt32(at + 4, v >> 31, true);
      } else if (Number.isSafeInteger(v)) {
        const hi = Math.floor(v / 4294967296);
        dv.setUint32(at, v - hi * 4294967296, true);
        dv.setInt32(at + 4, hi, true);
      } else if (Number.isInteger(v)) dv.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
      else dv.setFloat64(at, v, true);
      return false;
    case 'bigint':
      dv.setBigUint64(at, BigInt.asUintN(64, v), true);
      return false;
    case 'boolean':
      dv.setUint32(at, v ? 1 : 0, true);
      dv.setUint32(at + 4, 0, true);
      return false;
    case 'string': {
      const b = enc.encode(v);
      const addr = space.alloc(b.length + 1);
      copies.push([space, addr, argRegion(space, addr, b.length + 1)]);
      const u8 = space.u8;
      u8.set(b, addr);
      u8[addr + b.length] = 0;
      space.view.setBigUint64(at, BigInt(addr), true);
      return true;
    }
    default:
      if (v instanceof Uint8Array) {
        const addr = space.alloc(Math.max(1, v.length));
        copies.push([space, addr, argRegion(space, addr, Math.max(1, v.length))]);
        space.u8.set(v, addr);
        space.view.setBigUint64(at, BigInt(addr), true);
        return true;
      }
      putZero(dv, at);
      return false;
  }
}

const enc = new TextEncoder();

/** A string or buffer argument is the program's to read with bpf_probe_read_user(_str) in every probe mode (helpers/reach.ts). */
function argRegion(space: AddressSpace, base: number, size: number): Region {
  return space.addRegion({ base, size, kind: 'kernel', name: 'probed function argument', writable: false });
}

const probes = new WeakMap<object, Map<string | symbol, Probe>>();

function probeOf(target: object, method: string | symbol): Probe {
  let m = probes.get(target);
  if (!m) probes.set(target, (m = new Map()));
  let p = m.get(method);
  if (!p) m.set(method, (p = new Probe(target, method)));
  return p;
}

/** The entry of `target[method]`: attach kprobe programs (`SEC("uprobe")`) to it. */
export function uprobe(target: object, method: string | symbol): ProbePoint {
  return probeOf(target, method).entry;
}

/** The return of `target[method]`. */
export function uretprobe(target: object, method: string | symbol): ProbePoint {
  return probeOf(target, method).ret;
}

/** The address bpf_get_func_ip reports for `target[method]` (regs->ip in its probes' context). */
export function funcIp(target: object, method: string | symbol): bigint {
  return probeOf(target, method).ip;
}

/**
 * Attach `p` to the entry (or, with `ret`, the return) of `target[method]`.
 * @deprecated use `program.attach(uprobe(target, method))` or `uretprobe`.
 */
export function attachUprobe(p: Program, target: object, method: string | symbol, ret = false): Link {
  return p.attach(ret ? uretprobe(target, method) : uprobe(target, method));
}
