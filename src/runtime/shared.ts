/**
 * Programs on worker threads over one shared address space
 * (docs/architecture.md, "Memory model").
 *
 * The main thread makes the runtime with `shared: true` (its memory is then
 * a shared WebAssembly.Memory, and every map it creates keeps all of its
 * state — hash chains, free lists, counts, locks, ring positions — in that
 * memory), loads objects, and calls `runtime.share()`: a plain,
 * structured-clonable description holding the memory, each map's id,
 * descriptor and state addresses, and each program's verified image. It
 * goes to a worker in `workerData` or a message; there
 * `Runtime.attachShared(desc, { cpu })` opens the same maps and compiles the
 * same programs over the same bytes:
 *
 *   // main thread
 *   const rt = new Runtime({ shared: true, numCpus: 1 + workers });
 *   await rt.load(spec);
 *   new Worker(url, { workerData: rt.share() });
 *   // worker
 *   const coll = await Runtime.attachShared(workerData, { cpu: 1 });
 *   coll.program('count').run({ data, repeat: 1000 });
 *   coll.map('counts').get(0);
 *
 * Like a CPU in the kernel, each thread has a number: a worker's programs
 * see it in bpf_get_smp_processor_id() and use its slot of per-CPU maps
 * whatever hook or test run starts them. Numbers are claimed (one thread per
 * number; EBUSY otherwise) and released by `close()`. The main thread is
 * CPU 0 unless told otherwise.
 *
 * Allocation stays with the main thread: `share()` carves one arena per CPU
 * (stacks, context and packet buffers of that CPU's runs), so workers never
 * allocate shared storage. What is not shared: maps and programs loaded
 * after `share()` (share again and attach again to see them), prog_array
 * updates from a worker (EPERM), the helper registry (workers use the
 * default helpers, or `AttachOptions.helpers`), the trace_printk sink, and
 * the map types that keep JS state (refused at creation, maps/shareable.ts).
 * The main thread must keep the maps open while workers use them.
 *
 * The sharing runtime's `runDeadline` travels in the description: a worker's
 * runs are bounded as the main thread's are (docs/security.md, "Run
 * deadlines"), unless `AttachOptions.runDeadline` sets another.
 */
import { TsbpfError } from '../errors.js';
import type { Insn } from '../isa/insn.js';
import type { Executable, ProgramImage, RunArgs, RunDeadline } from '../vm/engine.js';
import type { InsnAux } from '../verifier/insn-aux.js';
import { CollectionDomain } from './confine.js';
import type { HelperRegistry } from '../vm/helper-abi.js';
import { execHelpers } from '../helpers/kfunc-fns.js';
import type { HelperClock, TaskIdentity } from '../helpers/env.js';
import type { MapSpec, ProgramSpec, ProgTypeName } from '../object/spec.js';
import type { BpfMap } from '../maps/map.js';
import { attachMap, sharedStateOf, SharedProgArray } from '../maps/shareable.js';
import { ArenaSpace } from './arena-space.js';
import { InterpExecutable } from '../vm/interpreter.js';
import { decodeProgram } from '../vm/interp/decode.js';
import { validateProgram } from '../isa/validate.js';
import type { TraceSink } from './host.js';
import { Program, programFacts, Runtime } from './runtime.js';

export interface ShareOptions {
  /** bytes of each CPU's arena (program stacks, context and packet buffers); default 1 MiB */
  arenaSize?: number;
}

/** One map of a shared runtime: its spec's shape, and where it lives in the memory. */
export interface SharedMapInfo extends Pick<MapSpec, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags'> {
  frozen: boolean;
  id: number;
  /** descriptor address: the map pointer programs hold */
  addr: number;
  /** the type's state block in the memory (0 when the descriptor says it all) */
  state: number;
}

/** One verified program of a shared runtime. */
export interface SharedProgramInfo {
  name: string;
  id: number;
  type: ProgTypeName;
  section: string;
  license: string;
  attachType?: string;
  sleepable?: boolean;
  /** the instructions as loaded (map references resolved to addresses in the shared memory) */
  insns: Insn[];
  verified: boolean;
  aux?: Array<InsnAux | undefined>;
}

/** What `runtime.share()` returns: structured-clonable (postMessage, workerData). */
export interface SharedRuntime {
  readonly kind: 'tsbpf.shared-runtime';
  readonly version: 1;
  readonly memory: WebAssembly.Memory;
  readonly numCpus: number;
  readonly privileged: boolean;
  /** RuntimeOptions.probeReach of the sharing runtime (absent in descriptions from older builds: 'collection') */
  readonly probeReach?: 'collection' | 'space';
  /** RuntimeOptions.runDeadline of the sharing runtime: every worker's runs are bounded by it too */
  readonly runDeadline?: RunDeadline;
  /** per CPU: the arena; its first word is the claim (0 free, 1 taken) */
  readonly arenas: ReadonlyArray<{ base: number; size: number }>;
  readonly maps: readonly SharedMapInfo[];
  readonly programs: readonly SharedProgramInfo[];
}

export interface AttachOptions {
  /** this thread's CPU number, 0 <= cpu < numCpus (claimed until close()) */
  cpu: number;
  /** how this thread runs the programs: 'jit' (default) or 'interpreter' */
  engine?: 'jit' | 'interpreter';
  /**
   * Take the CPU number even if a thread holds it: for replacing a worker
   * that exited or was terminated without close() (its arena is reused).
   */
  reclaim?: boolean;
  /** helpers (default: every helper tsbpf implements); functions cannot cross threads */
  helpers?: HelperRegistry;
  /** where bpf_trace_printk output of this thread's runs goes (default: kept in runtime.trace) */
  trace?: TraceSink;
  clock?: HelperClock;
  identity?: Partial<TaskIdentity>;
  seed?: number;
  /** this thread's run deadline, instead of the sharing runtime's (SharedRuntime.runDeadline) */
  runDeadline?: RunDeadline;
}

const DEFAULT_ARENA = 1 << 20;
/** the claim word, then allocations */
const ARENA_HEADER = 64;
const arenasOf = new WeakMap<Runtime, Array<{ base: number; size: number }>>();

/** runtime.share(): see the module comment. */
export function shareRuntime(rt: Runtime, opts: ShareOptions = {}): SharedRuntime {
  if (!rt.space.shared) throw new TsbpfError('EINVAL', 'runtime.share() needs a runtime created with { shared: true }');
  let arenas = arenasOf.get(rt);
  if (!arenas) {
    const size = Math.max(64 * 1024, Math.ceil((opts.arenaSize ?? DEFAULT_ARENA) / 65536) * 65536);
    arenas = [];
    for (let c = 0; c < rt.numCpus; c++) arenas.push({ base: rt.space.alloc(size, 4096), size });
    arenasOf.set(rt, arenas);
  }
  const maps: SharedMapInfo[] = [];
  for (const m of rt.maps.values()) {
    if (m.closed) continue;
    maps.push({
      name: m.name,
      type: m.type,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      flags: m.flags,
      frozen: m.frozen,
      id: m.id,
      addr: m.addr,
      state: sharedStateOf(m),
    });
  }
  const programs: SharedProgramInfo[] = rt.programList().map((p) => {
    const image = p.executable.image;
    return {
      name: p.name,
      id: p.id,
      type: p.type,
      section: p.spec.section,
      license: p.spec.license,
      ...(p.spec.attachType ? { attachType: p.spec.attachType } : {}),
      ...(p.spec.sleepable ? { sleepable: true } : {}),
      insns: p.insns.map((i) => ({ ...i })),
      verified: image.verified === true,
      ...(image.aux ? { aux: image.aux.map((a) => (a ? { ...a } : undefined)) } : {}),
    };
  });
  return { kind: 'tsbpf.shared-runtime', version: 1, memory: rt.space.memory, numCpus: rt.numCpus, privileged: rt.privileged, probeReach: rt.probeReach, ...(rt.runDeadline ? { runDeadline: { ...rt.runDeadline } } : {}), arenas: arenas.map((a) => ({ ...a })), maps, programs };
}

/** A worker's view of a shared runtime: its programs and maps by name, bound to one CPU. */
export class SharedCollection {
  private closed = false;
  constructor(
    /** this thread's runtime over the shared memory */
    readonly runtime: Runtime,
    readonly cpu: number,
    readonly programs: ReadonlyMap<string, Program>,
    readonly maps: ReadonlyMap<string, BpfMap<unknown>>,
    private readonly release: () => void,
  ) {}
  program(name: string): Program {
    const p = this.programs.get(name);
    if (!p) throw new TsbpfError('ENOENT', `no program ${name} in the shared runtime`);
    return p;
  }
  map(name: string): BpfMap<unknown> {
    const m = this.maps.get(name);
    if (!m) throw new TsbpfError('ENOENT', `no map ${name} in the shared runtime`);
    return m;
  }
  /** Drop this thread's programs and map handles (the maps stay, owned by the main thread) and free the CPU number. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.runtime.close();
    this.release();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Runtime.attachShared: see the module comment. */
export async function attachShared(desc: SharedRuntime, opts: AttachOptions): Promise<SharedCollection> {
  if (!desc || desc.kind !== 'tsbpf.shared-runtime' || desc.version !== 1) throw new TsbpfError('EINVAL', 'not a shared runtime description (runtime.share())');
  const cpu = opts.cpu;
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= desc.numCpus) throw new TsbpfError('EINVAL', `cpu ${cpu} is not in 0..${desc.numCpus - 1} (the runtime's numCpus)`);
  const arena = desc.arenas[cpu]!;
  const claim = new Int32Array(desc.memory.buffer, arena.base, 1);
  if (Atomics.compareExchange(claim, 0, 0, 1) !== 0 && !opts.reclaim)
    throw new TsbpfError('EBUSY', `cpu ${cpu} is already attached by another thread (close() it, or attach with reclaim: true if that thread is gone)`);
  Atomics.store(claim, 0, 1);
  const release = (): void => {
    Atomics.store(claim, 0, 0);
  };
  try {
    return await attachClaimed(desc, opts, arena, release);
  } catch (e) {
    release();
    throw e;
  }
}

async function attachClaimed(desc: SharedRuntime, opts: AttachOptions, arena: { base: number; size: number }, release: () => void): Promise<SharedCollection> {
  const cpu = opts.cpu;
  const space = new ArenaSpace(desc.memory, arena.base + ARENA_HEADER, arena.size - ARENA_HEADER);
  // A description comes from another thread (or anyone): new Runtime checks its deadline (EINVAL) as any.
  const deadline = opts.runDeadline ?? desc.runDeadline;
  const rt = new Runtime({
    space,
    numCpus: desc.numCpus,
    privileged: desc.privileged,
    ...(desc.probeReach ? { probeReach: desc.probeReach } : {}),
    engine: opts.engine ?? 'jit',
    ...(opts.helpers ? { helpers: opts.helpers } : {}),
    ...(opts.trace ? { trace: opts.trace } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(deadline ? { runDeadline: deadline } : {}),
  });
  try {
    const maps = new Map<string, BpfMap<unknown>>();
    const ctx = rt.mapContext();
    // This thread's programs share one probe domain: every map of the shared runtime.
    const domain = new CollectionDomain('shared runtime');
    for (const info of desc.maps) {
      const spec: MapSpec = { name: info.name, type: info.type, keySize: info.keySize, valueSize: info.valueSize, maxEntries: info.maxEntries, flags: info.flags, pinning: 'none' };
      const m = rt.tagMap(() => attachMap(spec, { ...ctx, attach: { id: info.id, addr: info.addr, state: info.state } }));
      domain.addMap(rt.mapTag(m));
      m.frozen = info.frozen;
      if (!maps.has(info.name)) maps.set(info.name, m);
    }
    const { JitExecutable } = await import('../vm/jit/engine.js');
    /** The JIT's executable bound to this thread's CPU, whatever CPU a hook or test run asks for. */
    class CpuBoundJit extends JitExecutable {
      constructor(
        image: ProgramImage,
        readonly boundCpu: number,
      ) {
        super(image);
      }
      override run(args: RunArgs = {}): bigint {
        return super.run(args.cpu === this.boundCpu ? args : { ...args, cpu: this.boundCpu });
      }
      override runCtx(ctx: number, _cpu: number, run: unknown): number {
        return super.runCtx(ctx, this.boundCpu, run);
      }
      override runRepeat(ctx: number, _cpu: number, run: unknown, n: number): number | undefined {
        return super.runRepeat(ctx, this.boundCpu, run, n);
      }
    }
    /** The same for the interpreter (every run, tail calls included, starts from acquire). */
    class CpuBoundInterp extends InterpExecutable {
      constructor(
        image: ProgramImage,
        readonly boundCpu: number,
      ) {
        validateProgram(image.insns);
        super(image, decodeProgram(image.insns, image.aux), !image.verified);
      }
      override acquire(args: RunArgs): ReturnType<InterpExecutable['acquire']> {
        return super.acquire(args.cpu === this.boundCpu ? args : { ...args, cpu: this.boundCpu });
      }
    }
    const prepare = (image: ProgramImage): Executable => (opts.engine === 'interpreter' ? new CpuBoundInterp(image, cpu) : new CpuBoundJit(image, cpu));
    const tailCallTarget = (mapAddr: number, index: number): Executable | undefined => {
      const m = rt.maps.byAddr(mapAddr);
      const ref = m instanceof SharedProgArray ? m.getProgram(index) : undefined;
      return ref ? rt.programById(ref.id)?.executable : undefined;
    };
    const programs = new Map<string, Program>();
    for (const info of desc.programs) {
      const image: ProgramImage = {
        name: info.name,
        insns: info.insns,
        helpers: execHelpers(rt.helpers),
        space,
        verified: info.verified,
        ...(info.aux ? { aux: info.aux } : {}),
        ...(rt.probeReach === 'collection' ? { owner: domain } : {}),
        ...(rt.runDeadline ? { deadline: rt.runDeadline } : {}),
        tailCallTarget,
      };
      const spec: ProgramSpec = {
        name: info.name,
        section: info.section,
        type: info.type,
        license: info.license,
        insns: [],
        references: [],
        ...(info.attachType ? { attachType: info.attachType } : {}),
        ...(info.sleepable ? { sleepable: true } : {}),
      };
      const p = new Program(rt, info.id, spec, info.insns, prepare(image), undefined, programFacts(spec, opts.engine !== 'interpreter'));
      rt.adoptProgram(p);
      if (!programs.has(info.name)) programs.set(info.name, p);
    }
    return new SharedCollection(rt, cpu, programs, maps, release);
  } catch (e) {
    rt.close();
    throw e;
  }
}
