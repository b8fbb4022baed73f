/**
 * Links: the attachment of a loaded program to a hook point (the kernel's
 * struct bpf_link). A hook point keeps its programs in an array that is
 * replaced, never mutated, on attach and detach (copy-on-write, as the
 * kernel's bpf_prog_array is swapped under RCU): an event that is being
 * delivered keeps running the list it started with, so attaching or
 * detaching while events flow neither loses nor duplicates an event.
 * Programs on one hook run in attach order. Maps belong to the programs'
 * collections, not to links: detaching leaves every map entry in place.
 */
import { TsbpfError } from '../errors.js';
import type { Program } from '../runtime/runtime.js';
import { releaseHeld, type HelperRun } from '../helpers/env.js';
import type { AddressSpace, Region } from '../memory/address-space.js';

/** Something `program.attach(hook)` accepts. */
export interface Attachable<L = Link> {
  attachProgram(p: Program): L;
}

/** One program attached to one hook; `detach()` takes it off (idempotent). */
export class Link {
  private detached = false;
  /** events this program ran on */
  runs = 0;
  /** runs that faulted (the event went on; see lastError) */
  errors = 0;
  lastError: unknown;
  /** @internal the helper-visible run state of this link's program on its hook (made on first event) */
  hookRun: HookRun | undefined;
  constructor(
    readonly hook: HookPoint,
    readonly program: Program,
  ) {}
  get attached(): boolean {
    return !this.detached;
  }
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.hook.remove(this);
  }
  /** `using link = prog.attach(hook)` detaches at scope exit. */
  [Symbol.dispose](): void {
    this.detach();
  }
}

/** Per-run state helpers see (ExecEnv.run), for programs run by hooks; it also keeps the engine's RunArgs so a hit allocates nothing. */
export class HookRun implements HelperRun {
  readonly args: { args: bigint[]; cpu: number; run: HookRun };
  constructor(
    readonly host: HelperRun['host'],
    readonly progType: string,
    readonly progName: string,
    public ctx: number,
    readonly scratch: number,
  ) {
    this.args = { args: [BigInt(ctx)], cpu: 0, run: this };
  }
  /** runs of this state in progress (more than one: a nested event re-entered the program) */
  active = 0;
  /** ring buffer records reserved and not yet released (HelperRun.held) */
  held: HelperRun['held'] = undefined;
}

/**
 * Cached views of a space's bytes. AddressSpace.u8/view check the memory's
 * buffer on every access (a WebAssembly.Memory.buffer read costs tens of ns);
 * here we rely on growth detaching the old buffer (byteLength 0) for a
 * non-shared memory, and on a shared memory's old buffer staying valid for
 * the addresses it covered.
 */
export interface SpaceMem {
  u8: Uint8Array;
  dv: DataView;
  /** 32-bit words (host byte order: see LITTLE_ENDIAN), for hot aligned stores */
  i32: Int32Array;
}
/** Whether the host stores words little-endian, as eBPF memory here is (Int32Array views are host order). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const mems = new WeakMap<AddressSpace, SpaceMem>();
export function memOf(space: AddressSpace): SpaceMem {
  let m = mems.get(space);
  if (!m || m.dv.byteLength === 0) {
    const u8 = space.u8;
    m = { u8, dv: space.view, i32: new Int32Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 2) };
    mems.set(space, m);
  }
  return m;
}

export interface CtxBuffer {
  space: AddressSpace;
  addr: number;
  size: number;
  busy: boolean;
  /** the hook's buffer for this space (kept across events), rather than one made for a nested event */
  kept: boolean;
  region?: Region;
}

/**
 * A hook point: an ordered, copy-on-write list of links. `types` names the
 * program types that may attach (EINVAL otherwise, as BPF_LINK_CREATE with a
 * mismatched attach type).
 */
export class HookPoint implements Attachable<Link> {
  /** the current programs, in attach order; replaced (never mutated) by attach/detach */
  links: readonly Link[] = [];
  /** zero the context before each event (hooks whose fill writes every field it ever writes turn this off) */
  protected zeroCtx = true;
  private readonly runs = new WeakMap<Program, HookRun>();
  private readonly buffers = new WeakMap<AddressSpace, CtxBuffer>();
  /** the kept buffer used last (most hooks see one space: no WeakMap look-up per event) */
  private lastBuf: CtxBuffer | undefined;

  constructor(
    readonly name: string,
    readonly types: readonly string[],
    /** context bytes each run gets (the struct the programs read) */
    readonly ctxSize: number,
    private readonly onFirst?: () => void,
    private readonly onLast?: () => void,
  ) {}

  attachProgram(p: Program): Link {
    if (!this.types.includes(p.type)) throw new TsbpfError('EINVAL', `program ${p.name} (${p.type}) cannot attach to ${this.name}: it takes ${this.types.join(' or ')} programs`);
    const link = new Link(this, p);
    const was = this.links.length;
    this.links = [...this.links, link];
    this.linksChanged();
    if (was === 0) {
      try {
        this.onFirst?.();
      } catch (e) {
        // The hook could not be installed (EPERM on a frozen target, ...): no link.
        this.links = this.links.filter((l) => l !== link);
        this.linksChanged();
        throw e;
      }
    }
    return link;
  }

  /** Called after `links` was replaced (subclasses derive per-list facts here, once, rather than per event). */
  protected linksChanged(): void {}

  /** @internal (Link.detach) */
  remove(link: Link): void {
    const next = this.links.filter((l) => l !== link);
    if (next.length === this.links.length) return;
    this.links = next;
    this.linksChanged();
    if (next.length === 0) this.onLast?.();
  }

  /** Whether any program is attached (hooks check this before building a context). */
  get active(): boolean {
    return this.links.length > 0;
  }

  /**
   * Run every attached program on a context that `fill` writes into the
   * program's address space (once per space, so programs of one runtime share
   * it); returns each program's r0 (as a signed 32-bit int) in attach order.
   */
  run(fill: (space: AddressSpace, addr: number, p: Program) => void, each?: (r0: number, link: Link) => boolean | void): void {
    const list = this.links;
    let buf: CtxBuffer | undefined;
    try {
      for (let i = 0; i < list.length; i++) {
        const link = list[i]!;
        const p = link.program;
        const space = p.runtime.space;
        if (!buf || space !== buf.space) {
          if (buf) this.release(buf);
          buf = this.buffer(space);
          if (this.zeroCtx) memOf(space).u8.fill(0, buf.addr, buf.addr + buf.size);
          fill(space, buf.addr, p);
        }
        let r0: number;
        try {
          r0 = this.execLink(link, buf.addr);
        } catch (e) {
          // A program fault (or a run past its deadline) must not break the application's operation: it is counted on the link.
          link.errors++;
          link.lastError = e;
          if (this.faulted(e)) break;
          continue;
        }
        link.runs++;
        if (each && each(r0, link) === true) break;
      }
    } finally {
      if (buf) this.release(buf);
    }
  }

  /** A run failed (counted on its link already): true stops the event's remaining programs. Policy hooks decide here whether to fail closed. */
  protected faulted(_e: unknown): boolean {
    return false;
  }

  protected release(b: CtxBuffer): void {
    b.busy = false;
    if (!b.kept) {
      if (b.region) b.space.removeRegion(b.region);
      b.space.free(b.addr);
    }
  }

  /** The context buffer of this hook in `space`: one kept per space, a fresh one when it is in use (a nested event). */
  protected buffer(space: AddressSpace): CtxBuffer {
    let b = this.lastBuf;
    if (!b || b.space !== space) {
      b = this.buffers.get(space);
      if (b) this.lastBuf = b;
    }
    if (!b || b.busy) {
      const addr = space.alloc(this.ctxSize);
      // Fresh memory may hold a freed block's bytes: a hook that fills only some fields (zeroCtx off) starts from zeros.
      memOf(space).u8.fill(0, addr, addr + this.ctxSize);
      const region = space.addRegion({ base: addr, size: this.ctxSize, kind: 'ctx', name: `${this.name} context`, writable: false });
      const nb: CtxBuffer = { space, addr, size: this.ctxSize, busy: true, kept: !b, region };
      if (!b) {
        this.buffers.set(space, nb);
        this.lastBuf = nb;
      }
      return nb;
    }
    b.busy = true;
    return b;
  }

  /** Run `p` with r1 = ctx; r0 as a signed 32-bit value (the int programs return). */
  exec(p: Program, ctx: number): number {
    let run = this.runs.get(p);
    if (!run) {
      run = this.makeRun(p, ctx);
      this.runs.set(p, run);
    }
    return this.execRun(p, run, ctx);
  }

  /** The helper-visible run state for `p` on this hook (subclasses add what their helpers need, e.g. the packet). */
  protected makeRun(p: Program, ctx: number): HookRun {
    return new HookRun(p.runtime.host, p.type, p.name, ctx, p.runtime.testRunEnv().scratch);
  }

  /** The run state of a link's program on this hook: kept on the link (no look-up per event). */
  protected runOfLink(link: Link, ctx: number): HookRun {
    let run = link.hookRun;
    if (!run) {
      const p = link.program;
      run = this.runs.get(p);
      if (!run) {
        run = this.makeRun(p, ctx);
        this.runs.set(p, run);
      }
      link.hookRun = run;
    }
    return run;
  }

  /** exec for a link. */
  protected execLink(link: Link, ctx: number): number {
    return this.execRun(link.program, this.runOfLink(link, ctx), ctx);
  }

  protected execRun(p: Program, run: HookRun, ctx: number): number {
    const prev = run.ctx;
    if (prev !== ctx) {
      run.ctx = ctx;
      run.args.args[0] = BigInt(ctx);
    }
    run.active++;
    try {
      const exe = p.executable;
      return exe.runCtx !== undefined ? exe.runCtx(ctx, 0, run) : Number(BigInt.asIntN(32, exe.run(run.args)));
    } finally {
      // A run stopped half-way (a deadline) gives back the ring buffer records it reserved.
      if (run.held !== undefined && run.active === 1) releaseHeld(run);
      // A nested event (another buffer) inside a run still going: the outer
      // run's helpers (bpf_get_func_ip reads run.ctx) must find its context again.
      if (--run.active > 0 && prev !== ctx) {
        run.ctx = prev;
        run.args.args[0] = BigInt(prev);
      }
    }
  }
}

/**
 * The same as `program.attach(hook)`.
 * @deprecated use `program.attach(hook)`.
 */
export function attach<L>(p: Program, hook: Attachable<L>): L {
  return hook.attachProgram(p);
}
