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
import { HookPoint, memOf, type Link } from './link.js';

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

  /** @internal: run the programs on one call. */
  fire(args: readonly unknown[], rv: unknown, isReturn: boolean): void {
    let copies: Array<[AddressSpace, number]> | undefined;
    try {
      this.run((space, a) => {
        // Every register this hook ever writes is written on every event (0 when absent), so the
        // context needs no zeroing between events (HookPoint.zeroCtx off).
        const keep = (c: [AddressSpace, number]): void => void (copies ??= []).push(c);
        // (memOf after each value: copying a string may grow the space and detach older views)
        for (let i = 0; i < ARG_REGS.length; i++) {
          const v = i < args.length ? this.value(space, args[i], keep) : 0n;
          memOf(space).dv.setBigUint64(a + ARG_REGS[i]!, v, true);
        }
        const rax = isReturn ? this.value(space, rv, keep) : 0n;
        const dv = memOf(space).dv;
        dv.setBigUint64(a + PT_REGS.rax, rax, true);
        dv.setBigUint64(a + PT_REGS.rip, this.probe.ip, true);
      });
    } finally {
      if (copies) for (const [s, addr] of copies) s.free(addr);
    }
  }

  private value(space: AddressSpace, v: unknown, keep: (c: [AddressSpace, number]) => void): bigint {
    switch (typeof v) {
      case 'number':
        if (Number.isInteger(v)) return BigInt.asUintN(64, BigInt(v));
        f64.setFloat64(0, v, true);
        return f64.getBigUint64(0, true);
      case 'bigint':
        return BigInt.asUintN(64, v);
      case 'boolean':
        return v ? 1n : 0n;
      case 'string': {
        const b = enc.encode(v);
        const addr = space.alloc(b.length + 1);
        space.u8.set(b, addr);
        space.u8[addr + b.length] = 0;
        keep([space, addr]);
        return BigInt(addr);
      }
      default:
        if (v instanceof Uint8Array) {
          const addr = space.alloc(Math.max(1, v.length));
          space.u8.set(v, addr);
          keep([space, addr]);
          return BigInt(addr);
        }
        return 0n;
    }
  }
}

const enc = new TextEncoder();
const f64 = new DataView(new ArrayBuffer(8));

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
