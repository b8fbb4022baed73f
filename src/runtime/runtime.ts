/**
 * The runtime: tsbpf's "kernel". One address space, one execution engine,
 * the maps and programs loaded into it with kernel-style ids, and the
 * services helpers call (clock, identity, trace sink).
 *
 * `load(spec)` does what bpf_object__load does with the kernel's help:
 * create the maps (fill initial contents, freeze .rodata), resolve each lddw
 * map reference to the map's descriptor or value address
 * (resolve_pseudo_ldimm64), check the program (the verifier when present,
 * else the structural checks), prepare it in the engine, and fill prog_array
 * and map-in-map slots named in the object.
 */
import { specialFieldsOf } from '../maps/special-fields.js';
import { TsbpfError } from '../errors.js';
import { AddressSpace, type AddressSpaceOptions } from '../memory/address-space.js';
import { checkDeadline, loadedEngines, type Engine, type Executable, type ProgramImage, type RunDeadline } from '../vm/engine.js';
import { TieredEngine } from '../vm/tiered.js';
import { HelperRegistry } from '../vm/helper-abi.js';
import { execHelpers } from '../helpers/kfunc-fns.js';
import { defaultHelpers } from '../helpers/index.js';
import { releaseHeld, type HelperClock, type HelperKernel, type HelperMap, type RedirectTarget, type SkbPacket, type TaskIdentity, type TraceRecord, type XdpPacket } from '../helpers/env.js';
import { createMap, MapTable, ProgArray, type BpfMap, type MapContext, type ProgramRef } from '../maps/index.js';
import type { CollectionSpec, MapSpec, MapTypeName, ProgramSpec, ProgTypeName } from '../object/spec.js';
import type { MapTypes } from '../maps/classes.js';
import { loadedVariables, type Variable } from './variables.js';
import { ProgType } from '../object/spec.js';
import { mapAsCreated } from '../object/maps.js';
import type { Insn } from '../isa/insn.js';
import type { Btf } from '../object/btf/btf.js';
import { RuntimeHost, defaultIdentity, prandom, systemClock, type TraceSink } from './host.js';
import { CollectionDomain, MapTags, owning } from './confine.js';
import { pinPathOf, type OpenPinOptions, type PinStore } from '../maps/pin-store.js';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, OP_LDDW } from '../isa/opcodes.js';
import { helperMapOf } from './map-adapter.js';
import { LOOPBACK, type NetDevice } from './netdev.js';
import { attachFuncProto, relocate, validate, verify, type PrepareContext, type ProgramCheck, type RelocatedProgram, type Verdict } from './loader.js';
import { RunState, testRun, type TestRunEnv } from './testrun/run.js';
import { checkShareable } from '../maps/shareable.js';
import { attachShared, shareRuntime, type AttachOptions, type SharedCollection, type SharedRuntime, type ShareOptions } from './shared.js';
import type { TestRunOptions, TestRunResult } from './testrun/types.js';
import type { CollectionApi, ProgramApi, RuntimeApi } from './api.js';

export interface RuntimeOptions {
  /**
   * The execution engine: 'jit' (the default when programs are verified: it
   * relies on the verifier and WebAssembly's sandbox and emits no per-access
   * checks), 'interpreter' (the default with verify: 'structural': unverified
   * programs run in checked mode, every access inside a registered region),
   * 'tiered' (each program on the interpreter for its first
   * DEFAULT_TIER_UP_RUNS runs, then compiled by the JIT: the first run comes
   * sooner, src/vm/tiered.ts), or an Engine instance (a TieredEngine with
   * another run count, for one).
   */
  engine?: 'interpreter' | 'jit' | 'tiered' | Engine;
  /** CPUs (per-CPU map slots, bpf_get_smp_processor_id range); default: the machine's (hardwareConcurrency / availableParallelism) */
  numCpus?: number;
  /** run as root: every program type may load. Unprivileged runtimes load only socket filters and cgroup_skb (like kernel.unprivileged_bpf_disabled=0). Default true. */
  privileged?: boolean;
  /** the address space, or options for a new one */
  space?: AddressSpace | AddressSpaceOptions;
  /**
   * Put the whole runtime in a shared memory so worker threads can run its
   * programs over the same maps (`runtime.share()`, `Runtime.attachShared`;
   * src/runtime/shared.ts). Map types that keep state outside the memory are
   * refused (ENOTSUPP). numCpus is then the number of threads that may run
   * programs (the main thread and the workers), fixed as the kernel's
   * possible CPUs are.
   */
  shared?: boolean;
  /** where bpf_trace_printk output goes; default: kept in `runtime.trace` (last 1000 records) */
  trace?: TraceSink;
  clock?: HelperClock;
  /** the "current task" for get_current_pid_tgid / uid_gid / comm (default: this process) */
  identity?: Partial<TaskIdentity>;
  /** seed of bpf_get_prandom_u32 (default: random) */
  seed?: number;
  /** helpers by id (default: every helper tsbpf implements) */
  helpers?: HelperRegistry;
  /** network devices by ifindex, beyond the loopback device (ifindex 1) */
  devices?: NetDevice[];
  /**
   * 'auto' (default): the verifier when the build has one, else the
   * structural checks; 'structural': structural checks only (the engines then
   * run the program in checked mode with an instruction budget).
   */
  verify?: 'auto' | 'structural';
  /**
   * Where `map.pin(path)`, `runtime.openPinnedMap(path)` and the maps a load
   * pins by name (LoadOptions.pinPath) live: the one pin mechanism
   * (maps/pin-store.ts). The core has none (pinning is EOPNOTSUPP); the Node
   * entry's Runtime defaults to pin files (maps/pin.ts filePins).
   */
  pins?: PinStore;
  /** the BTF CO-RE relocations resolve against (libbpf: the kernel's vmlinux BTF); default: kernelBtf, else tsbpf's context and tracepoint types, contextBtf() */
  coreTarget?: Btf;
  /**
   * The kernel BTF tracing programs are judged against (their fentry/tp_btf
   * targets, the types of their kernel pointers: the verifier's kernelBtf)
   * and, unless coreTarget says otherwise, relocated against: the running
   * kernel's vmlinux, or the modelled kernel of a test kit (src/testing).
   * Default: the subset tsbpf ships (verifier/kernel-btf.ts).
   */
  kernelBtf?: Btf;
  /** a modelled kernel for the tracing helpers (current task, stacks, perf counters; src/testing): a test kit sets it */
  kernel?: HelperKernel;
  /**
   * What bpf_probe_read_kernel/_user(_str), probe_read(_str) and the printf
   * family's %s / %pI read through an arbitrary pointer (docs/security.md):
   * 'collection' (default): only the running program's collection (its
   * maps, global data and stack), the current run's context and packet, and
   * the memory hooks hand programs to read (probed functions' string and
   * buffer arguments, policy hooks' paths); anything else fails with
   * -EFAULT and a zeroed destination. 'space': the whole address space,
   * every collection's maps included, as Linux lets a privileged tracing
   * program read all kernel memory; for hosts whose programs all come from
   * one trusted party that want Linux's behaviour exactly. Unprivileged
   * runtimes cannot call these helpers at all (the verifier refuses them).
   */
  probeReach?: 'collection' | 'space';
  /**
   * A limit on every run of this runtime's programs (hooks, invoke, test
   * runs), in instructions and/or milliseconds, so that a host's thread stays
   * responsive: a verified program may legally run for very long (nested
   * bpf_loop calls; Linux accepts those too). A run past it stops with
   * RunDeadlineExceeded (ETIME); what a hook then does is in
   * docs/security.md. Default none: no checks are compiled in. The JIT
   * counts at function entries and loop heads (an upper bound of the
   * instructions run), the interpreter every instruction; see RunDeadline.
   */
  runDeadline?: RunDeadline;
}

export interface LoadOptions {
  /** load only these programs (by name); default all */
  programs?: string[];
  /** override map specs by name (max_entries, flags, ...) before creation */
  mapOverrides?: Record<string, Partial<MapSpec>>;
  /** reuse existing maps by name instead of creating them (libbpf's bpf_map__reuse_fd) */
  replaceMaps?: Record<string, BpfMap<unknown>>;
  /** verifier log level (0: rejection only, 1: per-path, 2: every instruction) */
  logLevel?: 0 | 1 | 2;
  /**
   * Where maps declared with `pinning: LIBBPF_PIN_BY_NAME` live (libbpf's
   * pin_root_path), in the runtime's pin store: an existing pin at
   * `<pinPath>/<name>` is reused if it matches the declaration (else EINVAL,
   * as libbpf's "couldn't reuse pinned map"), otherwise the new map is pinned
   * there after the load.
   */
  pinPath?: string;
}

/** A raw program for `loadProgram`: instructions whose map lddws carry a map id in imm (BPF_PSEUDO_MAP_FD, as the kernel takes an fd). */
export interface RawProgram {
  name?: string;
  type: ProgTypeName;
  insns: readonly Insn[];
  license?: string;
  expectedAttachType?: string;
  /** load with BPF_F_SLEEPABLE (the kernel requires it of syscall programs) */
  sleepable?: boolean;
}

const MAX_TRACE = 1000;

export class Runtime implements RuntimeApi {
  readonly space: AddressSpace;
  private readonly engineImpl: Engine;
  private readonly engineOpt: 'interpreter' | 'jit' | 'tiered' | Engine;
  readonly numCpus: number;
  readonly privileged: boolean;
  readonly helpers: HelperRegistry;
  readonly maps: MapTable;
  readonly host: RuntimeHost;
  readonly devices: Map<number, NetDevice>;
  /** bpf_trace_printk records (when no trace sink was given) */
  readonly trace: TraceRecord[] = [];
  private readonly verifyMode: 'auto' | 'structural';
  /** CO-RE target (RuntimeOptions.coreTarget); undefined: the loader uses contextBtf() */
  private readonly coreTarget: Btf | undefined;
  private readonly pins: PinStore | undefined;
  /** RuntimeOptions.kernelBtf */
  readonly kernelBtf: Btf | undefined;
  private readonly programs = new Map<number, Program>();
  private lastProgId = 0;
  private readonly views = new WeakMap<BpfMap<unknown>, HelperMap>();
  private readonly scratch: number;
  private closed = false;
  /** probe-domain tags of this runtime's maps (confine.ts) */
  private readonly tags: MapTags;
  readonly probeReach: 'collection' | 'space';
  readonly runDeadline: RunDeadline | undefined;

  constructor(opts: RuntimeOptions = {}) {
    this.space = opts.space instanceof AddressSpace ? opts.space : new AddressSpace({ ...opts.space, ...(opts.shared ? { shared: true } : {}) });
    this.verifyMode = opts.verify ?? 'auto';
    this.kernelBtf = opts.kernelBtf;
    this.coreTarget = opts.coreTarget ?? opts.kernelBtf;
    this.pins = opts.pins;
    this.engineOpt = opts.engine ?? (this.verifyMode === 'structural' ? 'interpreter' : 'jit');
    if (typeof this.engineOpt === 'object') this.engineImpl = this.engineOpt;
    else if (this.engineOpt === 'interpreter') this.engineImpl = lazyInterpreter();
    else if (this.engineOpt === 'jit') this.engineImpl = lazyJit();
    else if (this.engineOpt === 'tiered') this.engineImpl = new TieredEngine(lazyInterpreter(), lazyJit());
    else throw new TsbpfError('EINVAL', `unknown engine ${String(this.engineOpt)}`);
    this.numCpus = Math.max(1, Math.floor(opts.numCpus ?? machineCpus()));
    this.privileged = opts.privileged ?? true;
    this.helpers = opts.helpers ?? defaultHelpers();
    this.maps = new MapTable();
    this.tags = new MapTags(this.space);
    this.probeReach = opts.probeReach ?? 'collection';
    this.runDeadline = opts.runDeadline ? checkDeadline({ ...opts.runDeadline }) : undefined;
    if (this.probeReach !== 'collection' && this.probeReach !== 'space') throw new TsbpfError('EINVAL', `unknown probeReach ${String(this.probeReach)}`);
    this.devices = new Map([[LOOPBACK.ifindex, LOOPBACK], ...(opts.devices ?? []).map((d) => [d.ifindex, d] as [number, NetDevice])]);
    const sink: TraceSink =
      opts.trace ??
      ((rec) => {
        this.trace.push(rec);
        if (this.trace.length > MAX_TRACE) this.trace.splice(0, this.trace.length - MAX_TRACE);
      });
    this.host = new RuntimeHost(
      opts.clock ?? systemClock(),
      // A modelled kernel's identity is a live view of its current task: taken as it is.
      opts.kernel ? opts.kernel.task : { ...defaultIdentity(), ...opts.identity },
      sink,
      prandom(opts.seed),
      this.numCpus,
      this.privileged,
      (addr) => this.mapView(addr),
      (addr) => {
        const m = this.maps.ringbufFor(addr);
        return m ? this.viewOf(m) : undefined;
      },
      this.probeReach,
      opts.kernel,
    );
    this.scratch = this.space.alloc(64);
  }

  /** The execution engine (RuntimeOptions.engine), from construction on. */
  get engine(): Engine {
    return this.engineImpl;
  }

  /** The helper view of the map whose descriptor is at `addr`. */
  private mapView(addr: number): HelperMap | undefined {
    const m = this.maps.byAddr(addr);
    return m ? this.viewOf(m) : undefined;
  }

  private viewOf(m: BpfMap<unknown>): HelperMap {
    let v = this.views.get(m);
    if (!v) {
      v = helperMapOf(m, (pa, i) => this.tailCallTarget(pa, i), this.tags.tagOf(m));
      this.views.set(m, v);
    }
    return v;
  }

  /** What the maps layer needs to make a map that lives in this runtime (also for reopening pins). */
  mapContext(): MapContext {
    const ctx: MapContext = { space: this.space, numCpus: this.numCpus, table: this.maps, programs: { byId: (id) => this.programs.get(id) }, devices: this.devices };
    if (this.pins) ctx.pins = this.pins;
    // cgroup_array updates name the modelled kernel's cgroups (a test kit's); with none, no id resolves.
    const k = this.host.kernel;
    if (k) ctx.cgroups = { has: (id) => k.hasCgroup(id) };
    return ctx;
  }

  /**
   * Reopen the map pinned at `path` in this runtime (BPF_OBJ_GET), with a
   * new id; programs loaded later share it through LoadOptions.replaceMaps.
   * Nothing pinned there is ENOENT; a runtime without a pin store EOPNOTSUPP.
   */
  openPinnedMap(path: string, opts: OpenPinOptions = {}): BpfMap<unknown> {
    this.checkOpen();
    const pins = this.pinStore();
    return this.tags.create(() => pins.open(path, this.mapContext(), opts));
  }

  private pinStore(): PinStore {
    if (!this.pins) throw new TsbpfError('EOPNOTSUPP', 'this runtime has no pin store (RuntimeOptions.pins; the Node entry pins to files)');
    return this.pins;
  }

  /** The map pinned at `path`, or undefined when nothing is (libbpf's reuse of a LIBBPF_PIN_BY_NAME pin). */
  private pinnedAt(path: string): BpfMap<unknown> | undefined {
    const pins = this.pinStore();
    const tag = {};
    let m: BpfMap<unknown>;
    try {
      m = owning(this.space, tag, () => pins.open(path, this.mapContext()));
    } catch (e) {
      if (e instanceof TsbpfError && e.errno === 'ENOENT') return undefined;
      throw e;
    }
    this.tags.adopt(m, tag);
    return m;
  }

  /** Create a map in this runtime (ids and descriptor as the kernel's BPF_MAP_CREATE). */
  createMap(spec: MapSpec): BpfMap<unknown> {
    this.checkOpen();
    if (this.space.shared) checkShareable(spec);
    return this.tags.create(() => createMap(spec, this.mapContext()));
  }

  /** @internal make a map from mapContext() elsewhere (a worker's view of a shared map) with a probe-domain tag (confine.ts) */
  tagMap(make: () => BpfMap<unknown>): BpfMap<unknown> {
    return this.tags.create(make);
  }

  /** @internal the probe-domain tag of a map of this runtime */
  mapTag(m: BpfMap<unknown>): object | undefined {
    return this.tags.tagOf(m);
  }

  /**
   * A structured-clonable description of this shared runtime (its memory,
   * maps and verified programs, by name) for `Runtime.attachShared` in a
   * worker thread (src/runtime/shared.ts).
   */
  share(opts: ShareOptions = {}): SharedRuntime {
    this.checkOpen();
    return shareRuntime(this, opts);
  }

  /** In a worker thread: the programs and maps of a shared runtime, running as CPU `opts.cpu` (src/runtime/shared.ts). */
  static attachShared(desc: SharedRuntime, opts: AttachOptions): Promise<SharedCollection> {
    return attachShared(desc, opts);
  }

  /** @internal every loaded program (for share()) */
  programList(): Program[] {
    return [...this.programs.values()];
  }

  /** @internal register a program made from another thread's image under its id (src/runtime/shared.ts) */
  adoptProgram(p: Program): void {
    this.programs.set(p.id, p);
    this.lastProgId = Math.max(this.lastProgId, p.id);
  }

  /** A program by id (kernel: bpf_prog_get_fd_by_id). */
  programById(id: number): Program | undefined {
    return this.programs.get(id);
  }

  /** The prog_array slot's program, for tail calls. */
  private tailCallTarget(m: BpfMap<unknown>, index: number): Executable | undefined {
    const ref = m instanceof ProgArray ? m.getProgram(index) : undefined;
    return ref ? this.programs.get(ref.id)?.executable : undefined;
  }

  /** Load a collection: maps first, then programs, then prog_array / map-in-map contents. */
  async load(spec: CollectionSpec, opts: LoadOptions = {}): Promise<Collection> {
    this.checkOpen();
    const maps = new Map<string, BpfMap<unknown>>();
    const created: BpfMap<unknown>[] = [];
    const toPin: Array<[string, BpfMap<unknown>]> = [];
    const reused = new Set<BpfMap<unknown>>();
    const programs = new Map<string, Program>();
    try {
      for (const [name, ms0] of spec.maps) {
        const reuse = opts.replaceMaps?.[name];
        if (reuse) {
          maps.set(name, reuse);
          continue;
        }
        const ms = mapAsCreated({ ...ms0, ...opts.mapOverrides?.[name] }, this.numCpus);
        const pinPath = ms.pinning === 'by_name' && opts.pinPath !== undefined ? pinPathOf(opts.pinPath, ms.name) : undefined;
        const pinned = pinPath !== undefined ? this.pinnedAt(pinPath) : undefined;
        if (pinned) {
          created.push(pinned);
          reused.add(pinned);
          maps.set(name, pinned);
          // libbpf map_is_reuse_compat: the pin must match the declaration.
          const same = pinned.type === ms.type && pinned.keySize === ms.keySize && pinned.valueSize === ms.valueSize && pinned.maxEntries === ms.maxEntries && pinned.flags === ms.flags;
          if (!same) throw new TsbpfError('EINVAL', `couldn't reuse pinned map ${ms.name}: its type, sizes or flags differ from the object's`);
          continue;
        }
        const m = this.createMap(ms);
        m.setSpecialFields(specialFieldsOf(ms, spec.btf));
        created.push(m);
        maps.set(name, m);
        if (pinPath !== undefined) toPin.push([pinPath, m]);
        for (const c of ms.contents ?? []) if ('key' in c) m.set(c.key, c.value);
        // BPF_MAP_FREEZE for .rodata once its contents are written and before any program loads
        // (libbpf bpf_object__populate_internal_map), so the verifier may treat its bytes as constants.
        if (ms.freeze) m.freeze();
      }
      // Inner maps must exist before outer slots refer to them.
      for (const [name, ms] of spec.maps) {
        const m = maps.get(name)!;
        // Reused maps (replaceMaps, existing pins) keep their slots as they are.
        if (opts.replaceMaps?.[name] || reused.has(m)) continue;
        for (const c of ms.contents ?? []) {
          if ('map' in c) {
            const inner = maps.get(c.map);
            if (!inner) throw new TsbpfError('EINVAL', `map ${name}: slot ${c.index} names unknown map ${c.map}`);
            m.set(c.index, inner.id);
          }
        }
      }
      const check = await this.programCheck();
      // The collection's own memory, for confined probe reads: every map it names (reused ones too).
      const domain = new CollectionDomain(spec.objectName);
      for (const m of maps.values()) domain.addMap(this.tags.tagOf(m));
      const wanted = opts.programs ? new Set(opts.programs) : undefined;
      for (const [name, ps] of spec.programs) {
        if (wanted && !wanted.has(name)) continue;
        programs.set(name, await this.loadSpec(ps, (n) => maps.get(n), check, domain, spec, opts.logLevel));
      }
      if (wanted) for (const n of wanted) if (!programs.has(n)) throw new TsbpfError('ENOENT', `no program ${n} in ${spec.objectName}`);
      for (const [path, m] of toPin) m.pin(path);
      for (const [name, ms] of spec.maps) {
        const m = maps.get(name)!;
        for (const c of ms.contents ?? []) {
          if ('program' in c) {
            const p = programs.get(c.program);
            // libbpf fills slots only with programs that were loaded.
            if (!p) continue;
            try {
              if (!(m instanceof ProgArray)) throw new TsbpfError('EINVAL', `map '${name}' (${m.type}) holds no programs`);
              m.setProgram(c.index, p);
            } catch (e) {
              // libbpf bpf_object__init_prog_array: the whole load fails.
              if (e instanceof TsbpfError) throw new TsbpfError(e.errno, `map '${name}': failed to initialize slot [${c.index}] to prog '${p.name}': ${e.message}`);
              throw e;
            }
          }
        }
      }
    } catch (e) {
      for (const p of programs.values()) p.close();
      for (const m of created) m.close();
      throw e;
    }
    return new Collection(this, spec.objectName, programs, maps, new Set(created), spec);
  }

  /** Load one program from raw instructions (maps referenced by id in lddw imm with src BPF_PSEUDO_MAP_FD/VALUE). */
  async loadProgram(raw: RawProgram): Promise<Program> {
    this.checkOpen();
    const check = await this.programCheck();
    const spec: ProgramSpec = {
      name: raw.name ?? 'prog',
      section: raw.type,
      type: raw.type,
      license: raw.license ?? 'GPL',
      insns: raw.insns.map((i) => ({ ...i })),
      references: [],
      ...(raw.expectedAttachType ? { attachType: raw.expectedAttachType } : {}),
      ...(raw.sleepable ? { sleepable: true } : {}),
    };
    // A raw program's own memory: the maps its lddw instructions name.
    const domain = new CollectionDomain(spec.name);
    for (let i = 0; i < raw.insns.length; i++) {
      const ins = raw.insns[i]!;
      if (ins.code !== OP_LDDW) continue;
      if (ins.src === BPF_PSEUDO_MAP_FD || ins.src === BPF_PSEUDO_MAP_VALUE) {
        const m = this.maps.byId(ins.imm);
        if (m) domain.addMap(this.tags.tagOf(m));
      }
      i++;
    }
    return this.loadSpec(spec, () => undefined, check, domain);
  }

  private verifierModule: ProgramCheck | null | undefined;

  /** The verifier, when this build has one and the runtime uses it. */
  private async programCheck(): Promise<ProgramCheck | null> {
    if (this.verifyMode === 'structural') return null;
    if (this.verifierModule !== undefined) return this.verifierModule;
    this.verifierModule = await loadVerifier();
    return this.verifierModule;
  }

  private async loadSpec(
    ps: ProgramSpec,
    mapByName: (n: string) => BpfMap<unknown> | undefined,
    check: ProgramCheck | null,
    domain: CollectionDomain,
    coll?: CollectionSpec,
    logLevel?: 0 | 1 | 2,
  ): Promise<Program> {
    if (ps.typeError || ps.type === 'unspec' || !(ps.type in ProgType)) throw new TsbpfError('EINVAL', `program ${ps.name}: ${ps.typeError ?? `unknown program type ${ps.type}`}`);
    if (!this.privileged && ps.type !== 'socket_filter' && ps.type !== 'cgroup_skb')
      throw new TsbpfError('EPERM', `program ${ps.name}: loading ${ps.type} programs needs privilege (CAP_BPF)`);
    // The load pipeline (loader.ts; docs/architecture.md, "Load pipeline"): relocate, validate, verify, compile, publish.
    const ctx: PrepareContext = {
      helpers: this.helpers,
      mapByName,
      mapById: (id) => this.maps.byId(id),
      check,
      spec: coll,
      numCpus: this.numCpus,
      space: this.space,
      privileged: this.privileged,
      ...(logLevel !== undefined ? { logLevel } : {}),
      ...(this.coreTarget ? { coreTarget: this.coreTarget } : {}),
      ...(this.kernelBtf ? { kernelBtf: this.kernelBtf } : {}),
    };
    const prog = relocate(ps, ctx);
    validate(prog, ctx);
    const verdict = check ? verify(ps, prog, check, ctx) : undefined;
    const facts = programFacts(ps, this.engine.kind === 'jit');
    // bpf_check_tail_call: a program that references a prog_array uses it, and the first user owns it.
    for (const m of prog.maps) if (m instanceof ProgArray) m.claim(facts, 'load');
    const id = ++this.lastProgId;
    const exe = await this.compile(ps, prog, verdict, domain);
    return this.publish(id, ps, prog, verdict, exe, facts);
  }

  /** Step 4, compile: the engine turns the verified instructions into an executable (the JIT's WebAssembly module, or the interpreter's decoded program). */
  private async compile(ps: ProgramSpec, prog: RelocatedProgram, verdict: Verdict | undefined, domain: CollectionDomain): Promise<Executable> {
    const image: ProgramImage = {
      name: ps.name,
      insns: prog.insns,
      helpers: execHelpers(this.helpers),
      space: this.space,
      verified: verdict !== undefined,
      ...(verdict?.aux ? { aux: verdict.aux } : {}),
      // Confined probe reads know the program's collection from this (helpers/reach.ts).
      ...(this.probeReach === 'collection' ? { owner: domain } : {}),
      ...(this.runDeadline ? { deadline: this.runDeadline } : {}),
      tailCallTarget: (mapAddr, index) => {
        const m = this.maps.byAddr(mapAddr);
        return m && m.type === 'prog_array' ? this.tailCallTarget(m, index) : undefined;
      },
    };
    // The async path when the engine has one: browser main threads refuse synchronous compilation of large modules.
    return this.engine.prepareAsync ? await this.engine.prepareAsync(image) : this.engine.prepare(image);
  }

  /** Step 5, publish: the program gets its id and the runtime lists it (bpf_prog_alloc_id). */
  private publish(id: number, ps: ProgramSpec, prog: RelocatedProgram, verdict: Verdict | undefined, exe: Executable, facts: ReturnType<typeof programFacts>): Program {
    const p = new Program(this, id, ps, prog.insns, exe, verdict?.log, facts, prog.maps);
    p.maxCtxOffset = verdict?.maxCtxOffset ?? 0;
    this.programs.set(id, p);
    return p;
  }

  /** @internal */
  forgetProgram(p: Program): void {
    if (this.programs.get(p.id) !== p) return;
    this.programs.delete(p.id);
    for (const m of this.maps.values()) if (m instanceof ProgArray) m.forget(p.id);
  }

  /** @internal */
  testRunEnv(): TestRunEnv {
    return { space: this.space, host: this.host, devices: this.devices, numCpus: this.numCpus, scratch: this.scratch };
  }

  /**
   * Every program and map of this runtime is released, and the runtime's own
   * blocks (the helpers' scratch); the runtime cannot load any more. The
   * address space itself (a WebAssembly.Memory) has no explicit free: it is
   * returned when nothing references the runtime any longer.
   */
  close(): void {
    if (this.closed) return;
    for (const p of [...this.programs.values()]) p.close();
    for (const m of [...this.maps.values()]) m.close();
    this.space.free(this.scratch);
    this.closed = true;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new TsbpfError('EBADF', 'runtime is closed');
  }
}


/** The machine's CPU count without importing Node modules (the runtime also runs in browsers). */
function machineCpus(): number {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    process?: { getBuiltinModule?: (id: string) => { availableParallelism?: () => number } | undefined };
  };
  return g.navigator?.hardwareConcurrency ?? g.process?.getBuiltinModule?.('node:os')?.availableParallelism?.() ?? 1;
}

/**
 * An engine of a runtime built where its module is not loaded (the CLI; see loadedEngines in
 * src/vm/engine.ts): the module is imported when the runtime first prepares a program
 * (prepareAsync, which the runtime's compile step uses), so a process on the JIT, the default,
 * never loads the interpreter (issue 17; test/cli-startup.test.ts), and one on the tiered engine
 * loads the JIT only when a program tiers up (src/vm/tiered.ts: while `ready` is false the tier-up
 * compiles in the background). `prepare` works once the module is loaded; before that it is not
 * there to call synchronously.
 */
class LazyEngine implements Engine {
  private impl: Engine | undefined;
  private loading: Promise<Engine> | undefined;

  constructor(
    readonly kind: 'interpreter' | 'jit',
    private readonly load: () => Promise<Engine>,
  ) {}

  get ready(): boolean {
    return this.impl !== undefined;
  }

  prepare(image: ProgramImage): Executable {
    if (!this.impl) throw new TsbpfError('EINVAL', `the runtime loads its ${this.kind === 'jit' ? 'JIT' : 'interpreter'} with its first program: call prepareAsync (or load a program) first`);
    return this.impl.prepare(image);
  }

  async prepareAsync(image: ProgramImage): Promise<Executable> {
    const impl = (this.impl ??= await (this.loading ??= this.load()));
    return impl.prepareAsync ? impl.prepareAsync(image) : impl.prepare(image);
  }
}

function lazyInterpreter(): Engine {
  return loadedEngines.interpreter?.() ?? new LazyEngine('interpreter', async () => new (await import('../vm/interpreter.js')).Interpreter());
}

function lazyJit(): Engine {
  return loadedEngines.jit?.() ?? new LazyEngine('jit', async () => new (await import('../vm/jit/engine.js')).JitEngine());
}

/** The verifier is imported on first load (it is the largest module of the runtime's dependencies). */
async function loadVerifier(): Promise<ProgramCheck | null> {
  const mod = await import('../verifier/index.js');
  return mod.verify;
}

/** What prog_array ownership compares of a program (maps/prog-array.ts), from its spec and engine. */
export function programFacts(ps: ProgramSpec, jited: boolean): ProgramRef & { name: string; type: ProgTypeName } {
  return {
    id: 0,
    name: ps.name,
    type: ps.type,
    expectedAttachType: ps.attachType,
    jited,
    xdpHasFrags: ps.xdpFrags === true,
    sleepable: ps.sleepable === true,
    attachFuncProto: attachFuncProto(ps),
  };
}

/** A loaded program: its id, type, resolved instructions and the engine's executable. */
export class Program implements ProgramRef, ProgramApi {
  readonly name: string;
  readonly type: ProgTypeName;
  readonly expectedAttachType?: string;
  readonly jited: boolean;
  readonly xdpHasFrags: boolean;
  readonly sleepable: boolean;
  readonly attachFuncProto: number | undefined;
  /** the end of the farthest context access the verifier saw (prog->aux->max_ctx_offset; 0 when unverified) */
  maxCtxOffset = 0;
  private closed = false;
  constructor(
    readonly runtime: Runtime,
    readonly id: number,
    readonly spec: ProgramSpec,
    /** the instructions as loaded (map references resolved to addresses) */
    readonly insns: readonly Insn[],
    readonly executable: Executable,
    /** the verifier log, when the verifier ran */
    readonly verifierLog: string | undefined,
    /** what prog_array ownership compares (programFacts) */
    facts: ProgramRef,
    /** the maps the program references: held (as the kernel's used_maps) until the program is closed */
    private readonly usedMaps: readonly BpfMap<unknown>[] = [],
  ) {
    this.name = spec.name;
    this.type = spec.type;
    if (spec.attachType) this.expectedAttachType = spec.attachType;
    this.jited = facts.jited ?? false;
    this.xdpHasFrags = facts.xdpHasFrags ?? false;
    this.sleepable = facts.sleepable ?? false;
    this.attachFuncProto = facts.attachFuncProto;
    for (const m of usedMaps) m.retain();
  }

  /** BPF_PROG_TEST_RUN: run on a packet / context and report r0, the output and the average duration. */
  run(opts: TestRunOptions = {}): TestRunResult {
    if (this.closed) throw new TsbpfError('EBADF', `program ${this.name} is closed`);
    return testRun(this.runtime.testRunEnv(), { name: this.name, type: this.type, ...(this.expectedAttachType ? { expectedAttachType: this.expectedAttachType } : {}), maxCtxOffset: this.maxCtxOffset, exec: this.executable }, opts);
  }

  /** Attach to a hook point (src/hooks: tracepoints, probes, packet and policy hooks); returns the link (bpf_link). */
  attach<L>(hook: { attachProgram(p: Program): L }): L {
    if (this.closed) throw new TsbpfError('EBADF', `program ${this.name} is closed`);
    if (typeof (hook as { attachProgram?: unknown } | undefined)?.attachProgram !== 'function')
      throw new TsbpfError(
        'EINVAL',
        `program ${this.name} (section ${this.spec.section}): attach() takes the hook to attach to, from 'tsbpf/hooks': e.g. tracepoint('node/http_server_request_start'), uprobe(obj, 'method'), socketFilter(socket), fileOpenHook(); sectionHook(program) is the hook the program's section names`,
      );
    return hook.attachProgram(this);
  }

  /**
   * Run once on a context the caller built in the runtime's address space
   * (hooks: a packet arriving, a probed call). `packet` tells the packet
   * helpers where the frame is; the result is r0 (64 bits) and any redirect.
   */
  invoke(ctx: number, opts: { packet?: XdpPacket | SkbPacket; cpu?: number } = {}): { r0: bigint; redirect?: RedirectTarget } {
    if (this.closed) throw new TsbpfError('EBADF', `program ${this.name} is closed`);
    const env = this.runtime.testRunEnv();
    const state = new RunState(env.host, this.type, this.name, ctx, opts.packet, env.scratch);
    let r0: bigint;
    try {
      r0 = this.executable.run({ args: [BigInt(ctx)], cpu: opts.cpu ?? 0, run: state });
    } finally {
      releaseHeld(state);
    }
    return state.redirect ? { r0, redirect: state.redirect } : { r0 };
  }

  /** Unload: the runtime forgets the program and the engine frees what it holds (the JIT's stack frames). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.runtime.forgetProgram(this);
    this.executable.close?.();
    // A map whose handles are all closed is released with its last program (bpf_prog_put -> used_maps).
    for (const m of this.usedMaps) m.unretain();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The programs and maps of one loaded object. */
export class Collection implements CollectionApi {
  private vars: ReadonlyMap<string, Variable> | undefined;
  constructor(
    readonly runtime: Runtime,
    readonly name: string,
    /** every program by name, for iteration; take one with `program(name)` */
    readonly programs: Map<string, Program>,
    /** every map by name, for iteration; take one with `map(name, type)` */
    readonly maps: Map<string, BpfMap<unknown>>,
    private readonly owned: Set<BpfMap<unknown>>,
    private readonly spec: Pick<CollectionSpec, 'maps' | 'btf'> = { maps: new Map() },
  ) {}
  /** The program `name`; ENOENT when the collection has none. */
  program(name: string): Program {
    const p = this.programs.get(name);
    if (!p) throw new TsbpfError('ENOENT', `no program ${name} in ${this.name}`);
    return p;
  }
  /**
   * The map `name`; ENOENT when the collection has none. With `type`, the map
   * comes typed as that type's class (`map('counts', 'hash')` is a HashMap)
   * and a map of another type is EINVAL.
   */
  map<T extends keyof MapTypes>(name: string, type: T): MapTypes[T];
  map(name: string): BpfMap<unknown>;
  map(name: string, type?: MapTypeName): BpfMap<unknown> {
    const m = this.maps.get(name);
    if (!m) throw new TsbpfError('ENOENT', `no map ${name} in ${this.name}`);
    if (type !== undefined && m.type !== type) throw new TsbpfError('EINVAL', `map ${name} of ${this.name} is a ${m.type} map, not ${type}`);
    return m;
  }
  /**
   * The global variables (`.data`, `.bss`, `.rodata`) by name, typed from
   * BTF: `get()` reads the loaded map, `set()` writes `.data` and `.bss`
   * (`.rodata` is frozen: set it before load with `variablesOf(spec)`).
   */
  get variables(): ReadonlyMap<string, Variable> {
    return (this.vars ??= loadedVariables(this.spec, (n) => this.maps.get(n)));
  }
  /** Unload the programs and close the maps this collection created (maps passed in with replaceMaps stay). */
  close(): void {
    for (const p of this.programs.values()) p.close();
    for (const m of this.owned) m.close();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
