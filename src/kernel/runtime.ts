/**
 * KernelRuntime: the user-space Runtime's shape over the Linux kernel.
 * `load(spec)` does what libbpf's bpf_object__load does: the object's BTF
 * (sanitised) first, then the maps with their BTF ids (inner-map templates
 * for map-in-map, global data written and .rodata frozen, pins reused or
 * made), map-in-map slots, the programs (prog-load.ts), then prog_array
 * slots. A failure closes whatever this load made. Each object is an fd;
 * the kernel frees what is not pinned when its last fd closes, at the
 * latest when the process exits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TsbpfError } from '../errors.js';
import { loadBtfFile, type Btf, type CoreModule } from '../object/btf/index.js';
import { moduleBtfObjFd, readModuleBtfs } from './module-btf.js';
import { MapType, type CollectionSpec, type MapSpec, type MapTypeName, type ProgramSpec, type ProgTypeName } from '../object/spec.js';
import type { CollectionApi, LoadOptionsApi, ProgramApi, RuntimeApi } from '../runtime/api.js';
import { loadedVariables, type Variable } from '../runtime/variables.js';
import { Attr, MAP_CREATE } from './attr.js';
import { loadObjectBtf, type LoadedBtf } from './btf-load.js';
import { BPF_CMD, KernelError, openSys, type Sys } from './ffi.js';
import { mapInfo, progInfo } from './info.js';
import { kconfigValue } from './kconfig.js';
import { KernelMap, openPinned, pinFd } from './map.js';
import { mapAsCreated } from '../object/maps.js';
import { kernelBtf, kernelMapOf, kernelProgramSpec, openRef, type KernelRef } from './objects.js';
import { Features } from './probe.js';
import { loadProgram, ProgLoadError } from './prog-load.js';
import { runTest } from './test-run.js';
import { attachProgram, type AttachOptions, type AttachTarget, type KernelLink } from './attach.js';
import { explainRejection } from './verifier-error.js';
import type { TestRunOptions, TestRunResult } from '../runtime/testrun/types.js';

export interface KernelRuntimeOptions {
  /** where maps with `pinning: LIBBPF_PIN_BY_NAME` are pinned and reused (libbpf's pin_root_path); default /sys/fs/bpf */
  pinPath?: string;
  /** the BTF CO-RE relocations, kfuncs and tracing targets resolve against; default /sys/kernel/btf/vmlinux */
  kernelBtf?: Btf | string;
  /** kernel modules' BTF (split on kernelBtf) searched after it; default the other files of kernelBtf's directory (/sys/kernel/btf/<module>) */
  moduleBtf?: readonly CoreModule[];
  /**
   * Kernel features to treat as missing, as on an older kernel: with `tcx`,
   * `attach({ tc })` takes the clsact + cls_bpf path a kernel before 6.6
   * gets (for tests of that path, and kernels whose tcx misbehaves).
   */
  assumeMissing?: ReadonlyArray<'tcx'>;
}

export interface KernelLoadOptions extends LoadOptionsApi {
  /** reuse existing kernel maps by name instead of creating them (libbpf's bpf_map__reuse_fd) */
  replaceMaps?: Record<string, KernelMap>;
}

/** The kernel's possible CPUs (per-CPU value slots), from /sys/devices/system/cpu/possible ("0-3"). */
export function possibleCpus(): number {
  try {
    return readFileSync('/sys/devices/system/cpu/possible', 'utf8')
      .trim()
      .split(',')
      .reduce((n, r) => {
        const [a, b] = r.split('-').map(Number);
        return n + (b === undefined ? 1 : b - a! + 1);
      }, 0);
  } catch {
    return 1;
  }
}

export class KernelRuntime implements RuntimeApi {
  private sysP: Promise<Sys> | undefined;
  private vmlinuxBtf: Btf | undefined;
  private moduleBtfs: readonly CoreModule[] | undefined;
  /** fds of modules' kernel BTF objects named in attach_btf_obj_fd, closed with the runtime */
  private readonly moduleFds = new Map<string, { sys: Sys; fd: number }>();
  private readonly collections = new Set<KernelCollection>();
  readonly numCpus = possibleCpus();
  /** the last load's BTF outcome, when the kernel refused the object's BTF: why (libbpf loads on without it) */
  btfWarning: string | undefined;
  private closed = false;

  constructor(private readonly opts: KernelRuntimeOptions = {}) {}

  /** The system-call layer (koffi is imported here, on first use). */
  sys(): Promise<Sys> {
    this.sysP ??= openSys();
    return this.sysP;
  }

  /** What the running kernel supports, with reasons (probe.ts). */
  async features(): Promise<Features> {
    return new Features(await this.sys());
  }

  /** The kernel's BTF, parsed once (CO-RE, kfuncs, tracing targets). */
  vmlinux(): Btf {
    if (this.vmlinuxBtf) return this.vmlinuxBtf;
    const k = this.opts.kernelBtf ?? '/sys/kernel/btf/vmlinux';
    if (typeof k !== 'string') return (this.vmlinuxBtf = k);
    if (!existsSync(k)) throw new TsbpfError('ENOENT', `${k} does not exist: the kernel was built without CONFIG_DEBUG_INFO_BTF, so CO-RE and BTF-typed programs cannot be loaded`);
    this.vmlinuxBtf = loadBtfFile(new Uint8Array(readFileSync(k)));
    return this.vmlinuxBtf;
  }

  /** The loaded modules' BTF (libbpf load_module_btfs), read on first use. */
  modules(): readonly CoreModule[] {
    if (this.moduleBtfs) return this.moduleBtfs;
    const k = this.opts.kernelBtf ?? '/sys/kernel/btf/vmlinux';
    this.moduleBtfs = this.opts.moduleBtf ?? (typeof k === 'string' ? readModuleBtfs(this.vmlinux(), dirname(k)) : []);
    return this.moduleBtfs;
  }

  private moduleBtfFd(sys: Sys, name: string): number {
    let m = this.moduleFds.get(name);
    if (!m) this.moduleFds.set(name, (m = { sys, fd: moduleBtfObjFd(sys, name) }));
    return m.fd;
  }

  async load(spec: CollectionSpec, opts: KernelLoadOptions = {}): Promise<KernelCollection> {
    if (this.closed) throw new TsbpfError('EBADF', 'runtime is closed');
    const sys = await this.sys();
    const features = new Features(sys);
    const made: Array<{ close(): void }> = [];
    let btf: LoadedBtf | undefined;
    try {
      if (spec.btf) {
        const r = loadObjectBtf(sys, features, spec, spec.btf);
        if (r.ok) btf = r.btf;
        this.btfWarning = r.ok ? undefined : r.reason;
      }
      const maps = new Map<string, KernelMap>();
      for (const [name, ms0] of spec.maps) {
        const reuse = opts.replaceMaps?.[name];
        if (reuse) {
          maps.set(name, reuse);
          continue;
        }
        const ms: MapSpec = mapAsCreated({ ...ms0, ...opts.mapOverrides?.[name] }, this.numCpus);
        const m = this.pinnedMap(sys, ms) ?? this.createMap(sys, ms, btf);
        if (!opts.replaceMaps?.[name]) made.push(m);
        maps.set(name, m);
      }
      // map-in-map slots (libbpf init_map_in_map_slots), then every inner map exists
      for (const [name, ms] of spec.maps) for (const c of ms.contents ?? []) if ('map' in c) maps.get(name)!.set(c.index, maps.get(c.map)?.fd ?? failSlot(name, c.map));
      const programs = new Map<string, KernelProgram>();
      const wanted = opts.programs ? new Set(opts.programs) : undefined;
      for (const [name, ps] of spec.programs) {
        if (wanted && !wanted.has(name)) continue;
        const p = await this.loadOne(sys, spec, ps, maps, btf, opts.logLevel);
        made.push(p);
        programs.set(name, p);
      }
      if (wanted) for (const n of wanted) if (!programs.has(n)) throw new TsbpfError('ENOENT', `no program ${n} in ${spec.objectName}`);
      // prog_array slots: programs that were loaded (libbpf skips the others)
      for (const [name, ms] of spec.maps) for (const c of ms.contents ?? []) if ('program' in c && programs.has(c.program)) maps.get(name)!.set(c.index, programs.get(c.program)!.fd);
      const coll = new KernelCollection(this, spec.objectName, programs, maps, new Set(made), spec);
      this.collections.add(coll);
      return coll;
    } catch (e) {
      for (const o of made.reverse()) o.close();
      throw e;
    } finally {
      // the programs and maps hold their own references to the BTF object
      if (btf) sys.close(btf.fd);
    }
  }

  private pinnedMap(sys: Sys, ms: MapSpec): KernelMap | undefined {
    if (ms.pinning !== 'by_name') return undefined;
    const path = join(this.opts.pinPath ?? '/sys/fs/bpf', ms.name);
    if (!existsSync(path)) return undefined;
    const fd = openPinned(sys, path);
    const info = mapInfo(sys, fd);
    const same = info.type === ms.type && info.keySize === ms.keySize && info.valueSize === ms.valueSize && info.maxEntries === ms.maxEntries && info.flags === ms.flags;
    if (!same) {
      sys.close(fd);
      throw new TsbpfError('EINVAL', `couldn't reuse pinned map ${ms.name} at ${path}: its type, sizes or flags differ from the object's`);
    }
    return new KernelMap(sys, fd, info.id, ms, this.numCpus);
  }

  /** BPF_MAP_CREATE (with BTF ids when the BTF loaded; retried without them, as libbpf does), then contents, freeze and pin. */
  private createMap(sys: Sys, ms0: MapSpec, btf: LoadedBtf | undefined): KernelMap {
    const ms = mapAsCreated(ms0, this.numCpus);
    let innerFd = -1;
    if (ms.innerMap) innerFd = this.createMap(sys, { ...ms.innerMap, contents: [], pinning: 'none' }, undefined).fd;
    const attr = (withBtf: boolean): Attr => {
      const a = new Attr(sys);
      a.u32(MAP_CREATE.map_type, MapType[ms.type]).u32(MAP_CREATE.key_size, ms.keySize).u32(MAP_CREATE.value_size, ms.valueSize);
      a.u32(MAP_CREATE.max_entries, ms.maxEntries).u32(MAP_CREATE.map_flags, ms.flags);
      if (innerFd >= 0) a.u32(MAP_CREATE.inner_map_fd, innerFd);
      if (ms.numaNode !== undefined) a.u32(MAP_CREATE.numa_node, ms.numaNode);
      a.name(MAP_CREATE.map_name, ms.name.replace(/[^A-Za-z0-9_.]/g, '_'));
      if (ms.mapExtra) a.u64(MAP_CREATE.map_extra, ms.mapExtra);
      if (withBtf && btf && ms.btfValueTypeId) {
        a.u32(MAP_CREATE.btf_fd, btf.fd).u32(MAP_CREATE.btf_key_type_id, ms.btfKeyTypeId ?? 0).u32(MAP_CREATE.btf_value_type_id, ms.btfValueTypeId);
      }
      return a;
    };
    let fd: number;
    try {
      try {
        fd = sys.bpf(BPF_CMD.MAP_CREATE, attr(true).bytes, `map ${ms.name} (${ms.type})`);
      } catch (e) {
        if (!(e instanceof KernelError) || !btf || !ms.btfValueTypeId || e.errno === 'EPERM') throw e;
        // libbpf: "Error in bpf_create_map_xattr: retrying without BTF"
        fd = sys.bpf(BPF_CMD.MAP_CREATE, attr(false).bytes, `map ${ms.name} (${ms.type})`);
      }
    } finally {
      if (innerFd >= 0) sys.close(innerFd);
    }
    const m = new KernelMap(sys, fd, mapInfo(sys, fd).id, ms, this.numCpus);
    try {
      if (ms.externs?.length) m.set(0, kconfigValue(ms));
      for (const c of ms.contents ?? []) if ('key' in c) m.set(c.key, c.value);
      if (ms.freeze) m.freeze();
      if (ms.pinning === 'by_name') pinFd(sys, fd, join(this.opts.pinPath ?? '/sys/fs/bpf', ms.name), `map ${ms.name}`);
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  private async loadOne(sys: Sys, spec: CollectionSpec, ps: ProgramSpec, maps: Map<string, KernelMap>, btf: LoadedBtf | undefined, logLevel: 0 | 1 | 2 | undefined): Promise<KernelProgram> {
    try {
      const r = loadProgram(ps, { sys, spec, mapFd: (n) => maps.get(n)?.fd, ...(btf ? { btf } : {}), vmlinux: () => this.vmlinux(), modules: () => this.modules(), moduleBtfFd: (n) => this.moduleBtfFd(sys, n), ...(logLevel !== undefined ? { logLevel } : {}) });
      return new KernelProgram(sys, r.fd, progInfo(sys, r.fd).id, ps, r.log, this.attachOptions());
    } catch (e) {
      if (e instanceof ProgLoadError && e.kernelLog) {
        let vm: Btf | undefined;
        try {
          vm = this.vmlinux();
        } catch {
          vm = undefined;
        }
        throw await explainRejection(e.errno, spec, ps, e.kernelLog, vm);
      }
      throw e;
    }
  }

  /** A map pinned in a bpffs (BPF_OBJ_GET), with its kernel attributes. */
  async openPinnedMap(path: string): Promise<KernelMap> {
    return this.openMap({ pinned: path });
  }

  /** A map the kernel holds, by id or pin (`bpftool map dump id N`), with its BTF key/value type ids. */
  async openMap(ref: KernelRef): Promise<KernelMap> {
    const sys = await this.sys();
    return kernelMapOf(sys, openRef(sys, 'map', ref), this.numCpus, 'id' in ref ? `map id ${ref.id}` : ref.pinned);
  }

  private attachOptions(): AttachOptions {
    return this.opts.assumeMissing?.length ? { missing: new Set(this.opts.assumeMissing) } : {};
  }

  /** A program the kernel holds, by id or pin: it runs (BPF_PROG_TEST_RUN) and attaches to explicit targets. */
  async openProgram(ref: KernelRef): Promise<KernelProgram> {
    const sys = await this.sys();
    const fd = openRef(sys, 'prog', ref);
    try {
      const spec = kernelProgramSpec(sys, fd, 'id' in ref ? `prog id ${ref.id}` : ref.pinned);
      return new KernelProgram(sys, fd, progInfo(sys, fd).id, spec, undefined, this.attachOptions());
    } catch (e) {
      sys.close(fd);
      throw e;
    }
  }

  /**
   * BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): the kernel counts run_cnt and
   * run_time_ns of every program while the returned handle is open (as
   * kernel.bpf_stats_enabled=1 does, without changing the sysctl for others).
   */
  async enableStats(): Promise<{ close(): void }> {
    const sys = await this.sys();
    const fd = sys.bpf(BPF_CMD.ENABLE_STATS, new Attr(sys).u32(0, 0 /* BPF_STATS_RUN_TIME */).bytes, 'run-time statistics');
    return { close: () => sys.close(fd) };
  }

  /** The BTF object the kernel keeps under `id` (a map's btf_id), parsed. */
  async btf(id: number): Promise<Btf> {
    return kernelBtf(await this.sys(), id);
  }

  /** @internal */
  forget(c: KernelCollection): void {
    this.collections.delete(c);
  }

  /** Close every collection this runtime loaded (pinned objects stay in the kernel). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.collections]) c.close();
    for (const m of this.moduleFds.values()) m.sys.close(m.fd);
    this.moduleFds.clear();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

function failSlot(map: string, inner: string): never {
  throw new TsbpfError('EINVAL', `map ${map}: a slot names unknown map ${inner}`);
}

/** A program in the kernel, through its fd. */
export class KernelProgram implements ProgramApi {
  readonly name: string;
  readonly type: ProgTypeName;
  private closed = false;
  private readonly links = new Set<KernelLink>();
  constructor(
    private readonly sys: Sys,
    readonly fd: number,
    readonly id: number,
    readonly spec: ProgramSpec,
    /** the kernel verifier's log, when a log level was asked for */
    readonly verifierLog?: string,
    private readonly attachOpts: AttachOptions = {},
  ) {
    this.name = spec.name;
    this.type = spec.type;
  }

  private check(): void {
    if (this.closed) throw new TsbpfError('EBADF', `program ${this.name} is closed`);
  }

  /** BPF_PROG_TEST_RUN, with the user-space runtime's options and result. */
  run(opts: TestRunOptions = {}): TestRunResult {
    this.check();
    return runTest(this.sys, this.fd, this.type, opts);
  }

  /**
   * Attach: with no argument, where the section name says (libbpf's
   * auto-attach: kprobe/, kretprobe/, tracepoint/, raw_tp/, tp_btf/, fentry/,
   * fexit/, fmod_ret/, lsm/); otherwise to the hook named (attach.ts).
   * The link is detached when this program is closed, unless pinned.
   */
  attach(target?: AttachTarget): KernelLink {
    this.check();
    const l = attachProgram(this.sys, this, target, this.attachOpts);
    this.links.add(l);
    l.onDetach(() => this.links.delete(l));
    return l;
  }

  /** BPF_OBJ_PIN */
  pin(path: string): void {
    this.check();
    pinFd(this.sys, this.fd, path, `program ${this.name}`);
  }

  /** kernel counters: run_cnt and run_time_ns (with kernel.bpf_stats_enabled), verified_insns, tag */
  info(): ReturnType<typeof progInfo> {
    this.check();
    return progInfo(this.sys, this.fd);
  }

  close(): void {
    if (this.closed) return;
    for (const l of [...this.links]) if (!l.pinned) l.detach();
    this.closed = true;
    this.sys.close(this.fd);
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/** The programs and maps of one object loaded into the kernel. */
export class KernelCollection implements CollectionApi {
  private closed = false;
  constructor(
    readonly runtime: KernelRuntime,
    readonly name: string,
    readonly programs: Map<string, KernelProgram>,
    readonly maps: Map<string, KernelMap>,
    private readonly owned: Set<{ close(): void }>,
    private readonly spec: Pick<CollectionSpec, 'maps' | 'btf'> = { maps: new Map() },
  ) {}
  private vars: ReadonlyMap<string, Variable> | undefined;
  program(name: string): KernelProgram {
    const p = this.programs.get(name);
    if (!p) throw new TsbpfError('ENOENT', `no program ${name} in ${this.name}`);
    return p;
  }
  /** The map `name` (ENOENT when absent); with `type`, a map of another type is EINVAL. */
  map(name: string, type?: MapTypeName): KernelMap {
    const m = this.maps.get(name);
    if (!m) throw new TsbpfError('ENOENT', `no map ${name} in ${this.name}`);
    if (type !== undefined && m.type !== type) throw new TsbpfError('EINVAL', `map ${name} of ${this.name} is a ${m.type} map, not ${type}`);
    return m;
  }
  /** The global variables by name, as the user-space Collection's (runtime/variables.ts). */
  get variables(): ReadonlyMap<string, Variable> {
    return (this.vars ??= loadedVariables(this.spec, (n) => this.maps.get(n)));
  }
  /** Detach the links, close the programs and the maps this load made (replaceMaps stay open). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const o of this.owned) o.close();
    this.runtime.forget(this);
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
