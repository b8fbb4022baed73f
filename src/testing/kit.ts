/**
 * The test kit: a runtime whose "kernel" is a model made of BTF, for
 * running tracing programs under the user's own test runner (node:test,
 * Vitest, Jest: the kit has no runner of its own, only promises and
 * plain values to assert on).
 *
 *   const kit = new TestKit();                    // the shipped small kernel, or { kernelBtf }
 *   const coll = await kit.load('execsnoop.bpf.o');
 *   const task = kit.model.object('task_struct', { pid: 42, tgid: 42, comm: 'bash' });
 *   const r = await kit.fire('tracepoint/sched/sched_process_exec', { task, fields: { filename: '/bin/ls' } });
 *   r.records.events;  r.calls;  coll.map('counts').get(...)
 *
 * One fact in one place: the current task is a task_struct of the model,
 * and get_current_pid_tgid, _uid_gid, _comm, _cgroup_id and
 * get_current_task all read it (through HelperKernel); the clock is a
 * ManualClock the test advances; stacks and perf counters are what the
 * test gives.
 */
import { TsbpfError } from '../errors.js';
import { Btf } from '../object/btf/btf.js';
import { loadBtfFile } from '../object/btf/file.js';
import { decodeValue, type BtfValue } from '../object/btf/codec.js';
import { readObject } from '../object/reader.js';
import type { CollectionSpec } from '../object/spec.js';
import { Runtime, type Collection, type LoadOptions, type Program, type RuntimeOptions } from '../runtime/runtime.js';
import { ManualClock } from '../runtime/host.js';
import { defaultHelpers } from '../helpers/index.js';
import { getFuncIp, tracingHelpers } from '../helpers/tracing.js';
import { seqHelpers } from '../helpers/seq.js';
import { storageHelpers } from '../helpers/storage.js';
import type { HelperKernel, PerfCounter, TaskIdentity, TraceRecord } from '../helpers/env.js';
import type { BpfMap } from '../maps/map.js';
import { RingBuf } from '../maps/ringbuf.js';
import { RingBufReader } from '../maps/ringbuf-reader.js';
import { KernelModel, type KernelObject } from './model.js';
import { CgroupTree, type CgroupOptions } from './cgroups.js';
import { SHIPPED_KERNEL_VERSION, shippedKernelBtf } from './kernel-btf.js';
import { kernelVersionCode } from '../uapi/kernel-version.js';
import { buildContext, type TracingEvent } from './events.js';
import type { Arch } from './regs.js';
import { ModelSockets, type SkcToKind } from './sockets.js';
import { iterTasks, KIT_ITER_TARGETS, readIterator, SeqBuffer, type SeqReadResult, type TaskIterLinkInfo } from './iter.js';

export interface TestKitOptions {
  /** the kernel's BTF (a Btf, or the bytes of a BTF blob or an ELF with .BTF); default the small kernel tsbpf ships */
  kernelBtf?: Btf | Uint8Array;
  /** the register layout of kprobe contexts (the program's __TARGET_ARCH); default x86_64 */
  arch?: Arch;
  /**
   * Values of the program's `__kconfig` externs (libbpf reads them from the
   * kernel's config). Default: LINUX_HAS_SYSCALL_WRAPPER = 1, as on x86-64
   * and arm64 kernels, so BPF_KSYSCALL programs read their arguments
   * through the wrapper's pt_regs pointer, which ksyscall events provide;
   * LINUX_KERNEL_VERSION as libbpf fills it, from the running kernel's
   * `uname -r` (in Node on Linux, with a kernelBtf given), else the shipped
   * small kernel's (6.12.0: SHIPPED_KERNEL_VERSION).
   */
  kconfig?: Readonly<Record<string, number | bigint | boolean>>;
  /** CLOCK_MONOTONIC at the start, in ns (default 1 s) */
  startNs?: bigint;
  /** further runtime options (engine, numCpus, seed, probeReach, ...) */
  runtime?: Omit<RuntimeOptions, 'kernel' | 'kernelBtf' | 'clock' | 'identity' | 'helpers'>;
}

/** A call with an effect outside the program, as the kit recorded it. */
export interface RecordedCall {
  helper: string;
  program: string;
  args: Record<string, bigint | number>;
}

export interface FireOptions extends TracingEvent {
  /** the current task during the event (default: the kit's current task) */
  task?: KernelObject;
  /** the event's call chains, innermost first (bpf_get_stack) */
  stack?: { kernel?: readonly bigint[]; user?: readonly bigint[] };
  /** perf_event: the counts of the sampling perf event, what bpf_perf_prog_read_value reads (default all 0) */
  perfCounter?: { counter: bigint | number; enabled?: bigint | number; running?: bigint | number };
  /** the CPU the event happens on (default 0) */
  cpu?: number;
  /** the attach cookie bpf_get_attach_cookie returns (default the program's, `setAttachCookie`, else 0) */
  cookie?: bigint | number;
}

/** A pid namespace as bpf_get_ns_current_pid_tgid matches it, and a task's ids in it. */
export interface PidNamespace {
  /** the nsfs device and the namespace's inode (`stat -L -c '%d %i' /proc/PID/ns/pid`) */
  dev: bigint | number;
  ino: bigint | number;
  /** the task's pid and tgid in the namespace (default its own: the initial namespace) */
  pid?: number;
  tgid?: number;
}

/** The initial pid namespace: nsfs is device 4 (0:4) and init_pid_ns's inode PROC_PID_INIT_INO. */
const INIT_PID_NS = { dev: 4n, ino: 0xeffffffcn };
/** Where the kit's symbol table starts (x86-64's __START_KERNEL_map + the text offset) and how far apart it puts functions. */
const KSYM_BASE = 0xffffffff81000000n;
const KSYM_STEP = 0x1000n;
/** include/linux/sched.h: a kernel thread (no user registers to walk) */
const PF_KTHREAD = 0x00200000n;

export interface FireResult {
  /** r0 of the (last) program run, as the 64 bits it returned */
  retval: bigint;
  /** every program the event ran, in load order, with its r0 */
  runs: Array<{ program: string; retval: bigint }>;
  /** ring buffer records the event produced, by map name */
  records: Record<string, Uint8Array[]>;
  /** recorded helper calls of the event (send_signal, ...) */
  calls: RecordedCall[];
  /** bpf_printk output of the event */
  trace: TraceRecord[];
}

export interface IterateOptions {
  /** iter/task: the tasks to visit, as libbpf's bpf_iter_attach_opts.link_info->task sets them (default every task) */
  task?: TaskIterLinkInfo;
  /** the bytes each read() of the iterator's file asks for (default 128 KiB, as `cat` reads) */
  readSize?: number;
}

/** An iterator's file read to its end: what `cat /sys/fs/bpf/ITER` prints, and what the runs produced beside it. */
export interface IterateResult extends SeqReadResult, Omit<FireResult, 'retval' | 'runs'> {
  /** the output as UTF-8 text */
  text: string;
}

export class TestKit {
  readonly runtime: Runtime;
  readonly model: KernelModel;
  /** the cgroup v2 hierarchy: every task starts in its root (id 1) */
  readonly cgroups: CgroupTree;
  readonly clock: ManualClock;
  readonly arch: Arch;
  /** every recorded call since the kit was made */
  readonly calls: RecordedCall[] = [];
  private current: KernelObject;
  private stacks: { kernel: readonly bigint[]; user: readonly bigint[] } = { kernel: [], user: [] };
  /** call chains given for particular tasks (bpf_get_task_stack), by the task_struct's address */
  private readonly taskStacks = new Map<number, { kernel: readonly bigint[]; user: readonly bigint[] }>();
  private sockets!: ModelSockets;
  private sample: PerfCounter = { counter: 0n, enabled: 0n, running: 0n };
  private readonly counters = new Map<string, PerfCounter>();
  private readonly collections: Collection[] = [];
  private readonly specs = new WeakMap<Collection, CollectionSpec>();
  private readonly readers = new Map<string, RingBufReader>();
  private running = '';
  private runningSection = '';
  private cookie = 0n;
  private readonly cookies = new WeakMap<Program, bigint>();
  private readonly ksyms = new Map<string, bigint>();
  private readonly pidNs = new WeakMap<KernelObject, { dev: bigint; ino: bigint; pid?: number; tgid?: number }>();
  private kconfig: Readonly<Record<string, number | bigint | boolean>>;
  /** the seq_files of the iterations under way, by the address of their model seq_file (bpf_seq_printf's `m`) */
  private readonly seqs = new Map<number, SeqBuffer>();
  /** bpf_iter.c's session_id: one more for every iterator file opened */
  private sessionId = 0n;
  /** the kit models the running kernel's BTF, or one the test gave: its LINUX_KERNEL_VERSION is the host's, as libbpf's is */
  private readonly givenBtf: boolean;

  constructor(opts: TestKitOptions = {}) {
    const btf = opts.kernelBtf instanceof Btf ? opts.kernelBtf : opts.kernelBtf ? loadBtfFile(opts.kernelBtf) : shippedKernelBtf();
    this.arch = opts.arch ?? 'x86_64';
    if (this.arch !== 'x86_64' && this.arch !== 'arm64') throw new TsbpfError('EINVAL', `unknown arch ${String(this.arch)}`);
    this.clock = new ManualClock(opts.startNs ?? 1_000_000_000n);
    this.kconfig = { LINUX_HAS_SYSCALL_WRAPPER: 1, ...opts.kconfig };
    this.givenBtf = opts.kernelBtf !== undefined;
    const helpers = defaultHelpers();
    for (const h of [...tracingHelpers, ...seqHelpers, ...storageHelpers, getFuncIp]) helpers.register(h);
    const kernel = this.kernelView();
    this.runtime = new Runtime({ numCpus: 1, ...opts.runtime, kernel, kernelBtf: btf, clock: this.clock, helpers });
    this.model = new KernelModel(this.runtime.space, btf);
    this.cgroups = new CgroupTree(this.model);
    this.sockets = new ModelSockets(this.model, (name) => this.symbol(name));
    const rootCss = this.cgroups.cssSet(this.cgroups.root);
    const init = this.model.object('task_struct', { pid: 1, tgid: 1, comm: 'systemd', cred: {}, cgroups: rootCss });
    init.set({ real_parent: init, parent: init, group_leader: init });
    this.current = this.model.object('task_struct', { pid: 1000, tgid: 1000, comm: 'tsbpf-test', cred: { uid: 1000, gid: 1000 }, real_parent: init, parent: init, cgroups: rootCss });
    this.current.set({ group_leader: this.current });
  }

  /** The current task: what get_current_task returns and the other get_current_* helpers read. */
  get task(): KernelObject {
    return this.current;
  }

  /** Make `task` (a task_struct of the model) the current task. */
  setCurrent(task: KernelObject): void {
    if (task.model !== this.model) throw new TsbpfError('EINVAL', 'the task belongs to another kit');
    this.current = task;
  }

  /**
   * The cgroup v2 at `path` below the root (`/system.slice/cron.service`),
   * made with its missing parents; `opts.id` picks its id. Put a task in it
   * with `setCgroup`, and a cgroup_array slot with `map.set(index, id)`.
   */
  cgroup(path: string, opts: CgroupOptions = {}): KernelObject {
    return this.cgroups.cgroup(path, opts);
  }

  /** Move `task` (default the current task) into cgroup `cg` (task->cgroups->dfl_cgrp). */
  setCgroup(cg: KernelObject, task: KernelObject = this.current): void {
    task.set({ cgroups: this.cgroups.cssSet(cg) });
  }

  /** The cookie bpf_get_attach_cookie returns in `program`'s runs (libbpf's bpf_*_opts.cookie at attach). */
  setAttachCookie(program: Program, cookie: bigint | number): void {
    this.cookies.set(program, BigInt.asUintN(64, BigInt(cookie)));
  }

  /**
   * A kernel function's address in the kit's symbol table (what
   * bpf_get_func_ip reports for programs attached to it): `addr` sets it,
   * otherwise the one given before, or a new one of its own.
   */
  symbol(name: string, addr?: bigint | number): bigint {
    if (addr !== undefined) this.ksyms.set(name, BigInt.asUintN(64, BigInt(addr)));
    let a = this.ksyms.get(name);
    if (a === undefined) {
      a = KSYM_BASE + KSYM_STEP * BigInt(this.ksyms.size);
      while ([...this.ksyms.values()].includes(a)) a += KSYM_STEP;
      this.ksyms.set(name, a);
    }
    return a;
  }

  /** Put `task` (default the current task) in a pid namespace, with its ids there (bpf_get_ns_current_pid_tgid). */
  setPidNamespace(ns: PidNamespace, task: KernelObject = this.current): void {
    this.pidNs.set(task, { dev: BigInt(ns.dev), ino: BigInt(ns.ino), ...(ns.pid !== undefined ? { pid: ns.pid } : {}), ...(ns.tgid !== undefined ? { tgid: ns.tgid } : {}) });
  }

  /** The call chains bpf_get_stack reports from now on (innermost first). */
  setStack(stack: { kernel?: readonly bigint[]; user?: readonly bigint[] }): void {
    this.stacks = { kernel: stack.kernel ?? [], user: stack.user ?? [] };
  }

  /**
   * The call chains bpf_get_task_stack reports for `task` (innermost
   * first). The current task's are the event's (setStack) unless given
   * here; another task's user chain is never walked (-EOPNOTSUPP, as in
   * Linux), and a task with none given has an empty one.
   */
  setTaskStack(task: KernelObject, stack: { kernel?: readonly bigint[]; user?: readonly bigint[] }): void {
    if (task.model !== this.model) throw new TsbpfError('EINVAL', 'the task belongs to another kit');
    this.taskStacks.set(task.addr, { kernel: stack.kernel ?? [], user: stack.user ?? [] });
  }

  /** Open a perf event in slot `index` of a perf_event_array, for bpf_perf_event_read(_value). */
  perfCounter(map: BpfMap<unknown>, index: number, value: { counter: bigint | number; enabled?: bigint | number; running?: bigint | number }): void {
    if (map.type !== 'perf_event_array') throw new TsbpfError('EINVAL', `${map.name} is a ${map.type}, not a perf_event_array`);
    const c = BigInt(value.counter);
    this.counters.set(`${map.addr}:${index}`, { counter: c, enabled: BigInt(value.enabled ?? 0), running: BigInt(value.running ?? 0) });
  }

  /** Load an object (a spec, its bytes, or in Node a file path) into the kit's runtime. */
  async load(obj: CollectionSpec | Uint8Array | string, opts: LoadOptions = {}): Promise<Collection> {
    let spec: CollectionSpec;
    if (typeof obj === 'string') {
      const { loadObjectFile } = await import('../object/file.js');
      spec = await loadObjectFile(obj);
    } else spec = obj instanceof Uint8Array ? readObject(obj) : obj;
    if (this.kconfig.LINUX_KERNEL_VERSION === undefined) this.kconfig = { ...this.kconfig, LINUX_KERNEL_VERSION: await this.kernelVersion() };
    spec = this.withKconfig(spec);
    const coll = await this.runtime.load(spec, opts);
    this.collections.push(coll);
    this.specs.set(coll, spec);
    for (const [name, m] of coll.maps) if (m instanceof RingBuf && !this.readers.has(name)) this.readers.set(name, new RingBufReader(m));
    return coll;
  }

  /**
   * LINUX_KERNEL_VERSION when the test sets none. libbpf takes the running
   * kernel's (get_kernel_version: uname), whatever BTF it relocates
   * against; the kit does the same for a kernelBtf the test gave, in Node
   * on Linux. The shipped small kernel, and a given BTF where there is no
   * Linux host (a browser), stand for the shipped kernel's version.
   */
  private async kernelVersion(): Promise<number> {
    if (this.givenBtf && typeof process === 'object' && process.platform === 'linux') {
      const { release } = await import('node:os');
      return kernelVersionCode(release());
    }
    return SHIPPED_KERNEL_VERSION;
  }

  /** The spec with its .kconfig map's externs set from the kit's kconfig (libbpf: bpf_object__read_kconfig_mem). */
  private withKconfig(spec: CollectionSpec): CollectionSpec {
    const maps = new Map(spec.maps);
    for (const [name, ms] of spec.maps) {
      if (ms.section !== '.kconfig' || !ms.externs) continue;
      // start from values the spec already holds (the CLI's: this machine's, as libbpf reads them)
      const held = ms.contents?.find((c) => 'key' in c);
      const value = held && 'key' in held && held.value.length === ms.valueSize ? Uint8Array.from(held.value) : new Uint8Array(ms.valueSize);
      const dv = new DataView(value.buffer);
      for (const e of ms.externs) {
        const v = this.kconfig[e.name];
        if (v === undefined) continue;
        const n = BigInt.asUintN(64, typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt(v));
        for (let i = 0; i < e.size; i++) dv.setUint8(e.offset + i, Number((n >> BigInt(8 * i)) & 0xffn));
      }
      maps.set(name, { ...ms, contents: [{ key: new Uint8Array(4), value }] });
    }
    return { ...spec, maps };
  }

  /** The loaded programs a hook name reaches (libbpf's section names; `tp/` and `tracepoint/` alike). */
  programsAt(hook: string): Program[] {
    const want = canonicalSection(hook);
    const out: Program[] = [];
    for (const c of this.collections) for (const p of c.programs.values()) if (canonicalSection(p.spec.section) === want) out.push(p);
    return out;
  }

  /** Run a program (or every program at a hook) on one event; resolves after the run with what it produced. */
  async fire(target: Program | string, event: FireOptions = {}): Promise<FireResult> {
    const progs = typeof target === 'string' ? this.programsAt(target) : [target];
    const cpu = event.cpu ?? 0;
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.runtime.numCpus) throw new TsbpfError('ENXIO', `cpu ${cpu} is not online (the kit has ${this.runtime.numCpus}: runtime.numCpus)`);
    if (progs.length === 0) throw new TsbpfError('ENOENT', `no loaded program at ${String(target)}`);
    for (const p of progs) if (iterTarget(p.spec.section) !== undefined) throw new TsbpfError('EINVAL', `${p.name} is an iterator program (${p.spec.section}): read it with kit.iterate()`);
    const prevTask = this.current;
    const prevStacks = this.stacks;
    if (event.task) this.setCurrent(event.task);
    if (event.stack) this.setStack(event.stack);
    const c = event.perfCounter;
    this.sample = c ? { counter: BigInt(c.counter), enabled: BigInt(c.enabled ?? 0), running: BigInt(c.running ?? 0) } : { counter: 0n, enabled: 0n, running: 0n };
    const calls0 = this.calls.length;
    const trace0 = this.runtime.trace.length;
    const runs: FireResult['runs'] = [];
    try {
      for (const p of progs) runs.push({ program: p.name, retval: this.runOne(p, event) });
    } finally {
      this.current = prevTask;
      this.stacks = prevStacks;
    }
    return { retval: runs[runs.length - 1]!.retval, runs, ...this.produced(calls0, trace0) };
  }

  /** The ring buffer records, recorded calls and bpf_printk lines since the calls and trace were `calls0` and `trace0` long. */
  private produced(calls0: number, trace0: number): Pick<FireResult, 'records' | 'calls' | 'trace'> {
    const records: Record<string, Uint8Array[]> = {};
    for (const [name, r] of this.readers) {
      const got = r.read();
      if (got.length) records[name] = got;
    }
    return { records, calls: this.calls.slice(calls0), trace: this.runtime.trace.slice(trace0) };
  }

  /**
   * Read an iterator program's file to its end, as `cat` reads the file
   * libbpf's bpf_iter_create (or `bpftool iter pin`) makes: the program runs
   * once per object of its target (iter/task: every task of the model, by
   * pid; `opts.task` narrows it as bpf_iter_link_info does) with
   * ctx->meta->seq_num counting from 0, then once with a NULL object; what
   * it writes with bpf_seq_printf / bpf_seq_write is the output, with the
   * kernel's overflow and retry rules (iter.ts). A read error (EAGAIN,
   * E2BIG) ends the reading as it ends `cat`: `error` says which, `output`
   * holds what was read before it.
   */
  async iterate(target: Program | string, opts: IterateOptions = {}): Promise<IterateResult> {
    const progs = typeof target === 'string' ? this.programsAt(target) : [target];
    if (progs.length !== 1) throw new TsbpfError(progs.length ? 'EINVAL' : 'ENOENT', progs.length ? `${progs.length} programs at ${String(target)}: iterate one (a Program)` : `no loaded program at ${String(target)}`);
    const p = progs[0]!;
    const t = iterTarget(p.spec.section);
    if (t === undefined) throw new TsbpfError('EINVAL', `${p.name} (${p.spec.section}) is not an iterator program: run it with kit.fire()`);
    if (!(KIT_ITER_TARGETS as readonly string[]).includes(t))
      throw new TsbpfError('ENOTSUPP', `${p.name}: the kit runs iterators over ${KIT_ITER_TARGETS.join(', ')}; the objects iter/${t} walks are not in its kernel model`);
    const tasks = iterTasks(this.model, opts.task);
    const readSize = opts.readSize ?? undefined;
    if (readSize !== undefined && (!Number.isSafeInteger(readSize) || readSize <= 0)) throw new TsbpfError('EINVAL', `readSize ${readSize} is not a positive byte count`);
    const seq = new SeqBuffer();
    const seqFile = this.model.object('seq_file');
    const meta = this.model.object('bpf_iter_meta', { seq: seqFile, session_id: ++this.sessionId });
    this.seqs.set(seqFile.addr, seq);
    const calls0 = this.calls.length;
    const trace0 = this.runtime.trace.length;
    let r: SeqReadResult;
    try {
      r = readIterator(tasks, (task, seqNum) => {
        meta.set({ seq_num: seqNum });
        return this.runOne(p, { args: [meta, task] });
      }, seq, readSize);
    } finally {
      this.seqs.delete(seqFile.addr);
      this.model.free(meta);
      this.model.free(seqFile);
    }
    return { ...r, text: new TextDecoder().decode(r.output), ...this.produced(calls0, trace0) };
  }

  private runOne(p: Program, event: FireOptions): bigint {
    const wrapper = BigInt(this.kconfig.LINUX_HAS_SYSCALL_WRAPPER ?? 0) !== 0n;
    const coll = this.collections.find((c) => c.programs.get(p.name) === p);
    const programBtf = coll && this.specs.get(coll)?.btf;
    const bytes = buildContext(this.model, this.arch, p.spec, event, { commonPid: Number(this.current.get('pid')), syscallWrapper: wrapper, ...(programBtf ? { programBtf } : {}) });
    const space = this.runtime.space;
    const ctx = space.alloc(Math.max(8, bytes.length));
    const region = space.addRegion({ base: ctx, size: Math.max(8, bytes.length), kind: 'ctx', name: `${p.name} context`, writable: false });
    space.u8.set(bytes, ctx);
    this.running = p.name;
    this.runningSection = p.spec.section;
    this.cookie = event.cookie !== undefined ? BigInt.asUintN(64, BigInt(event.cookie)) : (this.cookies.get(p) ?? 0n);
    try {
      return p.invoke(ctx, { cpu: event.cpu ?? 0 }).r0;
    } finally {
      this.running = '';
      this.runningSection = '';
      space.removeRegion(region);
      space.retire(ctx);
    }
  }

  /**
   * A record's bytes as the object's BTF type `typeName` (the program's
   * `struct event`): integers as numbers (64-bit ones as bigints), char
   * arrays as strings, as map values decode (object/btf/codec.ts).
   */
  decode(coll: Collection, typeName: string, bytes: Uint8Array): BtfValue {
    const btf = this.specs.get(coll)?.btf;
    if (!btf) throw new TsbpfError('ENOENT', `${coll.name} has no BTF (build it with clang -g)`);
    const t = btf.typeByName(typeName.replace(/^struct\s+/, ''), 'struct') ?? btf.typeByName(typeName);
    if (!t) throw new TsbpfError('ENOENT', `${coll.name} has no type ${typeName}`);
    return decodeValue(btf, t.id, bytes);
  }

  /** Unload everything and free the model. */
  close(): void {
    for (const r of this.readers.values()) r.close();
    for (const c of this.collections) c.close();
    this.model.close();
    this.runtime.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private kernelView(): HelperKernel {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const kit = this;
    const num = (path: string): number => {
      try {
        const v = kit.current.get(path);
        return typeof v === 'bigint' ? Number(BigInt.asUintN(32, v)) : 0;
      } catch (e) {
        // A kernel BTF without the field (or a NULL cred): nothing to report.
        if (e instanceof TsbpfError) return 0;
        throw e;
      }
    };
    const task: TaskIdentity = {
      get pid() {
        return num('pid');
      },
      get tgid() {
        return num('tgid');
      },
      get uid() {
        return num('cred.uid');
      },
      get gid() {
        return num('cred.gid');
      },
      get comm() {
        const c = kit.current.get('comm');
        return typeof c === 'string' ? c : '';
      },
    };
    // cgroup_id(task_dfl_cgroup(current)): the kernfs node's id; the root cgroup's (1) when the model gives none.
    const cgroupId = (): bigint => {
      try {
        const v = kit.current.get('cgroups.dfl_cgrp.kn.id');
        return typeof v === 'bigint' ? BigInt.asUintN(64, v) : 1n;
      } catch (e) {
        if (e instanceof TsbpfError) return 1n;
        throw e;
      }
    };
    /** the address of task_dfl_cgroup(current), undefined when the task has none */
    const currentCgroup = (): number | undefined => {
      try {
        const v = kit.current.get('cgroups.dfl_cgrp');
        return typeof v === 'bigint' && v !== 0n ? Number(v) : undefined;
      } catch (e) {
        if (e instanceof TsbpfError) return undefined;
        throw e;
      }
    };
    return {
      task,
      // find_task_by_pid_ns(pid, &init_pid_ns): the task with that pid (the idle task, pid 0, is in no pid table)
      taskByPid: (pid) => (pid > 0 ? (iterTasks(kit.model, { tid: pid })[0]?.ptr ?? 0n) : 0n),
      currentTask: () => kit.current.ptr,
      cgroupId,
      // task_dfl_cgroup(current)'s ancestors, from the hierarchy; a cgroup the test made by hand is its own only ancestor
      ancestorCgroupId: (level) => {
        const at = currentCgroup();
        const id = at === undefined ? undefined : kit.cgroups.ancestorId(at, level);
        if (id !== undefined) return id;
        return BigInt(num('cgroups.dfl_cgrp.level')) === BigInt(level) ? cgroupId() : 0n;
      },
      underCgroup: (id) => {
        const at = currentCgroup();
        return (at === undefined ? undefined : kit.cgroups.isDescendant(at, id)) ?? id === cgroupId();
      },
      hasCgroup: (id) => kit.cgroups.has(id),
      pidNamespace: () => {
        const ns: { dev: bigint; ino: bigint; pid?: number; tgid?: number } = kit.pidNs.get(kit.current) ?? INIT_PID_NS;
        return { dev: ns.dev, ino: ns.ino, pid: ns.pid ?? task.pid, tgid: ns.tgid ?? task.tgid };
      },
      attachCookie: () => kit.cookie,
      funcIp: () => {
        const target = attachTarget(kit.runningSection);
        return target ? BigInt.asUintN(64, kit.symbol(target.name) + target.offset) : 0n;
      },
      stack: (user) => (user ? kit.stacks.user : kit.stacks.kernel),
      taskStack: (addr) => {
        const t = kit.model.at(Number(addr), 'task_struct');
        if (!t) throw new TsbpfError('EFAULT', `bpf_get_task_stack: 0x${addr.toString(16)} is not a task_struct of the kernel model`);
        const current = t.addr === kit.current.addr;
        const given = kit.taskStacks.get(t.addr) ?? (current ? kit.stacks : { kernel: [], user: [] });
        let flags = 0n;
        try {
          const f = t.get('flags');
          flags = typeof f === 'bigint' ? f : 0n;
        } catch (e) {
          if (!(e instanceof TsbpfError)) throw e;
        }
        return { ...given, current, kthread: (flags & PF_KTHREAD) !== 0n };
      },
      socketCookie: (sk) => kit.sockets.cookie(sk),
      skcTo: (kind, sk) => kit.sockets.skcTo(kind as SkcToKind, sk),
      perfCounter: (mapAddr, index) => kit.counters.get(`${mapAddr}:${index}`),
      sampleCounter: () => kit.sample,
      record: (helper, args) => {
        kit.calls.push({ helper, program: kit.running, args });
      },
      seq: (addr) => kit.seqs.get(Number(addr)),
    };
  }
}

/**
 * The kernel function a program's section attaches it to (kprobe/NAME,
 * kprobe/NAME+OFF, kretprobe/NAME, fentry/NAME, fexit/NAME, fmod_ret/NAME),
 * undefined for other sections. bpf_get_func_ip reports the probe's
 * address: kp->addr, the function's plus the offset.
 */
function attachTarget(section: string): { name: string; offset: bigint } | undefined {
  const m = /^(?:kprobe|kretprobe|fentry|fexit|fmod_ret)(?:\.s)?\/([^+/]+)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(section.replace(/^\?/, ''));
  return m ? { name: m[1]!, offset: m[2] ? BigInt(m[2]) : 0n } : undefined;
}

/** The target of an iterator program's section (`iter/task`, `iter.s/task`: task), undefined for other sections. */
export function iterTarget(section: string): string | undefined {
  return /^iter(?:\.s)?\/(.+)$/.exec(section.replace(/^\?/, ''))?.[1];
}

/** A section or hook name in one spelling: `tp/` is `tracepoint/`, `raw_tp/` is `raw_tracepoint/`, no leading `?`. */
export function canonicalSection(s: string): string {
  return s
    .replace(/^\?/, '')
    .replace(/^tp\//, 'tracepoint/')
    .replace(/^raw_tp\//, 'raw_tracepoint/');
}

