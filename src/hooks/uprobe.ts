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
 */
import { TsbpfError } from '../errors.js';
import type { Program } from '../runtime/runtime.js';
import type { Runtime } from '../runtime/runtime.js';
import type { AddressSpace } from '../vm/memory.js';
import type { HelperDef } from '../helpers/types.js';
import { helper } from '../helpers/def.js';
import { runOf } from '../helpers/env.js';
import { HookPoint, LITTLE_ENDIAN, memOf, type Link, type SpaceMem } from './link.js';

/** sizeof(struct pt_regs) on x86-64 */
export const PT_REGS_SIZE = 168;
/** Offsets of struct pt_regs (arch/x86/include/asm/ptrace.h). */
export const PT_REGS = { r9: 64, r8: 72, rax: 80, rcx: 88, rdx: 96, rsi: 104, rdi: 112, rip: 128, rsp: 152 } as const;
/** Argument registers in the kprobe ABI's order (PT_REGS_PARM1..6). */
const ARG_REGS = [PT_REGS.rdi, PT_REGS.rsi, PT_REGS.rdx, PT_REGS.rcx, PT_REGS.r8, PT_REGS.r9];

/** The base of the synthetic "text" addresses probed functions get (looks like a user-space code address). */
const FUNC_IP_BASE = 0x400000n;
let nextFunc = 1n;

/**
 * bpf_get_func_ip (helper 173) for kprobe programs: the probed function's
 * address, which tsbpf keeps in regs->ip. Add it with `enableProbeHelpers`.
 */
export const getFuncIp: HelperDef = helper(173, 'get_func_ip', 'INTEGER', ['PTR_TO_CTX'], (env) => {
  const run = runOf(env);
  return env.space.readU64(run.ctx + PT_REGS.rip);
});

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
    const probe = this;
    // A plain function keeps `this` and `new.target`-less calls working for methods and functions alike.
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      if (probe.entry.active) probe.entry.fire(args, undefined, false);
      const r = orig.apply(this, args);
      if (probe.ret.active) probe.ret.fire(args, r, true);
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
export class ProbePoint extends HookPoint {
  constructor(
    name: string,
    readonly probe: Probe,
    onFirst: () => void,
    onLast: () => void,
  ) {
    super(name, ['kprobe'], PT_REGS_SIZE, onFirst, onLast);
    this.zeroCtx = false;
  }

  /** the event being delivered, for fastFill (saved and restored around a nested event) */
  private evArgs: readonly unknown[] = [];
  private evRv: unknown;
  private evRet = false;
  private mem: SpaceMem | undefined;
  private memSpace: AddressSpace | undefined;
  /** fill for an event whose values are all 32-bit integers: made once, so such an event allocates no closure */
  private readonly fastFill = (space: AddressSpace, a: number): void => {
    if (LITTLE_ENDIAN && (a & 7) === 0) {
      // The space's words, cached here (memOf is a WeakMap look-up); growth of a non-shared memory detaches them (length 0).
      let m = this.mem;
      if (m === undefined || this.memSpace !== space || m.i32.length === 0) {
        m = this.mem = memOf(space);
        this.memSpace = space;
      }
      fastRegs(m.i32, a >> 2, this.evArgs, this.evRv, this.evRet, this.probe);
    }
    else {
      const dv = memOf(space).dv;
      const args = this.evArgs;
      for (let i = 0; i < ARG_REGS.length; i++) putReg(dv, a + ARG_REGS[i]!, i < args.length ? args[i] : 0, space, []);
      putReg(dv, a + PT_REGS.rax, this.evRet ? this.evRv : 0, space, []);
      dv.setUint32(a + PT_REGS.rip, this.probe.ipLo, true);
      dv.setUint32(a + PT_REGS.rip + 4, this.probe.ipHi, true);
    }
  };

  /** @internal: run the programs on one call. */
  fire(args: readonly unknown[], rv: unknown, isReturn: boolean): void {
    if (smallInts(args, rv, isReturn)) {
      const pa = this.evArgs;
      const pr = this.evRv;
      const pi = this.evRet;
      this.evArgs = args;
      this.evRv = rv;
      this.evRet = isReturn;
      try {
        this.run(this.fastFill);
      } finally {
        this.evArgs = pa;
        this.evRv = pr;
        this.evRet = pi;
      }
      return;
    }
    const copies: Array<[AddressSpace, number]> = [];
    try {
      this.run((space, a) => {
        // Every register this hook ever writes is written on every event (0 when absent), so the
        // context needs no zeroing between events (HookPoint.zeroCtx off). Plain numbers are
        // written as 32-bit halves: no BigInt per register (the cost of a probe hit is mostly here).
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
      });
    } finally {
      for (let i = 0; i < copies.length; i++) copies[i]![0].free(copies[i]![1]);
    }
  }
}

/** Word indexes (of 4 bytes) of the argument registers in struct pt_regs. */
const ARG_WORDS = ARG_REGS.map((o) => o >> 2);

/** Whether every value of the event is a 32-bit integer, absent, or (a return value) undefined: the common case. */
function smallInts(args: readonly unknown[], rv: unknown, isReturn: boolean): boolean {
  const n = args.length;
  if (n > 6) return false;
  for (let i = 0; i < n; i++) {
    const v = args[i];
    if (typeof v !== 'number' || (v | 0) !== v) return false;
  }
  return !isReturn || rv === undefined || (typeof rv === 'number' && (rv | 0) === rv);
}

/**
 * The registers of a smallInts event: each two aligned word stores
 * (little-endian host, 8-aligned context).
 */
function fastRegs(i32: Int32Array, w: number, args: readonly unknown[], rv: unknown, isReturn: boolean, probe: { ipLo: number; ipHi: number }): void {
  const n = args.length;
  for (let i = 0; i < 6; i++) {
    const v = i < n ? (args[i] as number) : 0;
    const k = w + ARG_WORDS[i]!;
    i32[k] = v;
    i32[k + 1] = v >> 31;
  }
  const r = isReturn && rv !== undefined ? (rv as number) : 0;
  i32[w + (PT_REGS.rax >> 2)] = r;
  i32[w + (PT_REGS.rax >> 2) + 1] = r >> 31;
  i32[w + (PT_REGS.rip >> 2)] = probe.ipLo | 0;
  i32[w + (PT_REGS.rip >> 2) + 1] = probe.ipHi | 0;
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
function putReg(dv: DataView, at: number, v: unknown, space: AddressSpace, copies: Array<[AddressSpace, number]>): boolean {
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
      copies.push([space, addr]);
      const u8 = space.u8;
      u8.set(b, addr);
      u8[addr + b.length] = 0;
      space.view.setBigUint64(at, BigInt(addr), true);
      return true;
    }
    default:
      if (v instanceof Uint8Array) {
        const addr = space.alloc(Math.max(1, v.length));
        copies.push([space, addr]);
        space.u8.set(v, addr);
        space.view.setBigUint64(at, BigInt(addr), true);
        return true;
      }
      putZero(dv, at);
      return false;
  }
}

const enc = new TextEncoder();

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

/** Attach `p` to the entry (or, with `ret`, the return) of `target[method]`. */
export function attachUprobe(p: Program, target: object, method: string | symbol, ret = false): Link {
  return p.attach(ret ? uretprobe(target, method) : uprobe(target, method));
}
