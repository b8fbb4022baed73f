/**
 * What helpers see of the runtime while a program runs (`ExecEnv.run`).
 *
 * Helpers sit below the runtime (docs/architecture.md, "Dependencies and the core"), so they do
 * not import it: they describe here, structurally, the few things they need —
 * maps by descriptor address, a clock, the task identity, the trace sink, the
 * packet being processed — and the runtime provides objects of these shapes.
 * The same helper functions therefore serve the interpreter, the JIT, and any
 * host that builds its own run state (tests, hooks).
 */
import { TsbpfError, ERRNO_VALUES, type Errno } from '../errors.js';
import type { ExecEnv } from '../vm/helper-abi.js';
import type { Executable } from '../vm/engine.js';
import { NULL_GUARD } from '../memory/address-space.js';

/** A map as helpers drive it: all pointers are addresses in the runtime's space. */
export interface HelperMap {
  /** descriptor address: what a program's map pointer holds */
  readonly addr: number;
  /** enum bpf_map_type name (`hash`, `ringbuf`, ...) */
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** value address for the key at `keyAddr` (this CPU's slot for per-CPU maps), 0 when absent */
  lookup(keyAddr: number, cpu: number): number;
  /** 0 or -errno */
  update(keyAddr: number, valueAddr: number, flags: bigint, cpu: number): number;
  /** 0 or -errno */
  delete(keyAddr: number, cpu: number): number;
  /** queue/stack/bloom_filter: 0 or -errno */
  push?(valueAddr: number, flags: bigint): number;
  /** queue/stack: copy the head into valueAddr and remove it; 0 or -errno */
  pop?(valueAddr: number): number;
  /** queue/stack/bloom_filter: 0 or -errno */
  peek?(valueAddr: number): number;
  /** ringbuf: record address or 0 */
  reserve?(size: number, flags: bigint): number;
  submit?(recordAddr: number, flags: bigint): void;
  discard?(recordAddr: number, flags: bigint): void;
  /** ringbuf: 0 or -errno */
  output?(dataAddr: number, size: number, flags: bigint): number;
  query?(flags: bigint): bigint;
  /**
   * Visit elements in the kernel's order for bpf_for_each_map_elem: the key
   * and this CPU's value as addresses; the visitor returns true to stop.
   * Returns the number of elements visited. Missing for types the kernel
   * refuses (queue, ringbuf, ...).
   */
  forEach?(cpu: number, visit: (keyAddr: number, valueAddr: number) => boolean): number;
  /** perf_event_array: deliver a sample to the reader at `index`; 0 or -errno (-ENOENT with no reader) */
  perfOutput?(index: number, data: Uint8Array): number;
  /** stack_trace: bpf_get_stackid of the chain (innermost first): the id or -errno */
  stackId?(chain: readonly bigint[], flags: bigint): number;
  /** cgroup_array: the id of the cgroup in slot `index`, undefined when empty */
  cgroupAt?(index: number): bigint | undefined;
  /** prog_array: the program in slot `index` */
  progAt?(index: number): Executable | undefined;
  /** local storage maps: the value of the object at `owner` (its address), made from `initAddr` (0: zeros) when `create`; 0 when none */
  storageGet?(owner: number, initAddr: number, create: boolean): number;
  /** local storage maps: 0, or -ENOENT when the object has no value */
  storageDelete?(owner: number): number;
}

/** Time sources, in nanoseconds (CLOCK_MONOTONIC, CLOCK_BOOTTIME, coarse monotonic) and jiffies. */
export interface HelperClock {
  monotonicNs(): bigint;
  boottimeNs(): bigint;
  coarseNs(): bigint;
  jiffies64(): bigint;
}

/** The "current task" that get_current_pid_tgid / uid_gid / comm report. */
export interface TaskIdentity {
  pid: number;
  tgid: number;
  uid: number;
  gid: number;
  /** up to 15 bytes (TASK_COMM_LEN 16 with the NUL) */
  comm: string;
}

/** One bpf_trace_printk call: the formatted text plus where it came from. */
export interface TraceRecord {
  message: string;
  program: string;
  cpu: number;
  pid: number;
  comm: string;
  timestampNs: bigint;
}

/** A perf event's counter as bpf_perf_event_read_value reports it (struct bpf_perf_event_value). */
export interface PerfCounter {
  counter: bigint;
  enabled: bigint;
  running: bigint;
}

/**
 * The kernel a test kit models (src/testing): what the tracing helpers read
 * beyond the task identity. Hosts without one refuse those helpers at load.
 */
export interface HelperKernel {
  /** the current task's identity, a live view (get_current_pid_tgid, _uid_gid, _comm) */
  readonly task: TaskIdentity;
  /** the task_struct whose pid (thread id) is `pid` in the initial pid namespace, 0 when none (bpf_task_from_pid) */
  taskByPid?(pid: number): bigint;
  /** address of the current task_struct in the space (bpf_get_current_task) */
  currentTask(): bigint;
  /** the current task's cgroup v2 id (bpf_get_current_cgroup_id) */
  cgroupId(): bigint;
  /** the id of the current task's cgroup's ancestor at `level` (0: the root), 0 when level is past its own (bpf_get_current_ancestor_cgroup_id) */
  ancestorCgroupId(level: number): bigint;
  /** whether the current task's cgroup is the cgroup `id` or below it (task_under_cgroup_hierarchy) */
  underCgroup(id: bigint): boolean;
  /** whether the kernel has a cgroup with this id (a cgroup_array update names it) */
  hasCgroup(id: bigint): boolean;
  /** the current task's pid namespace (its nsfs dev and inode) and its pid and tgid there (bpf_get_ns_current_pid_tgid) */
  pidNamespace(): { dev: bigint; ino: bigint; pid: number; tgid: number };
  /** the running program's attach cookie (bpf_get_attach_cookie) */
  attachCookie(): bigint;
  /** the address of the function the running program is attached to (bpf_get_func_ip), 0 if it names none */
  funcIp(): bigint;
  /** the current event's kernel or user call chain, innermost first (bpf_get_stack) */
  stack(user: boolean): readonly bigint[];
  /** a task's call chains, whether it is the current task, and whether it is a kernel thread (no user regs) (bpf_get_task_stack) */
  taskStack(task: bigint): { kernel: readonly bigint[]; user: readonly bigint[]; current: boolean; kthread: boolean };
  /** sock_gen_cookie of the socket at `sk` (bpf_get_socket_cookie on a `struct sock *`) */
  socketCookie(sk: bigint): bigint;
  /** bpf_skc_to_<kind>: `sk` when the socket is one of that kind, 0 otherwise */
  skcTo(kind: string, sk: bigint): bigint;
  /** the perf event in slot `index` of the perf_event_array at `mapAddr`, undefined when none is open there */
  perfCounter(mapAddr: number, index: number): PerfCounter | undefined;
  /** the perf event whose sample runs a perf_event program (bpf_perf_prog_read_value) */
  sampleCounter(): PerfCounter;
  /** a call with an effect outside the program (send_signal, override_return, ...), kept for the test to assert on */
  record(helper: string, args: Record<string, bigint | number>): void;
  /** the output buffer of the seq_file at `seq` (an iterator's meta->seq), undefined when no iteration holds one there */
  seq?(seq: bigint): SeqOutput | undefined;
}

/** The buffer of a seq_file an iterator program writes to (fs/seq_file.c). */
export interface SeqOutput {
  /** append `data` whole (seq_write, seq_bprintf: count + len < size), else mark the buffer overflowed; false on overflow */
  write(data: Uint8Array): boolean;
}

/** What the runtime offers every helper, for the life of a loaded collection. */
export interface HelperHost {
  /** the map whose descriptor is at `addr` */
  mapAt(addr: number): HelperMap | undefined;
  readonly clock: HelperClock;
  readonly task: TaskIdentity;
  /** bpf_trace_printk output */
  trace(rec: TraceRecord): void;
  /** 32 random bits (bpf_get_prandom_u32) */
  prandomU32(): number;
  readonly numCpus: number;
  /** Running unprivileged: %p prints hashed pointers, probe_read of kernel memory is refused. */
  readonly privileged: boolean;
  /**
   * How far the probe-read helpers (and %s in the printf family) reach
   * (reach.ts): 'collection' confines them to the running program's own
   * memory and the host's kernel-object regions; 'space' (and a host that
   * says nothing) lets them read the whole address space, as Linux lets
   * privileged tracing programs read all kernel memory.
   */
  readonly probeReach?: 'collection' | 'space';
  /** the modelled kernel of a test kit (src/testing), for the tracing helpers */
  readonly kernel?: HelperKernel;
}

/**
 * The packet of a networking program, as the kernel's xdp_buff / sk_buff hold
 * it. The program sees `data`, `data_end` (and `data_meta`) through its
 * context struct, which lives in the address space; helpers that move them
 * (xdp_adjust_*) write the context fields, so the program's next context load
 * sees the new bounds without any rewriting.
 */
export interface XdpPacket {
  kind: 'xdp';
  /** address of the struct xdp_md */
  ctx: number;
  /** data_hard_start: the first byte of the frame (headroom included) */
  hardStart: number;
  /** xdp->frame_sz: bytes from hardStart to the end of the frame (tailroom included) */
  frameSize: number;
  /** bytes reserved at the end of the frame (skb_shared_info) */
  tailroom: number;
  /**
   * Multi-buffer frames: the fragments after the linear part (page-sized
   * buffers and the bytes used in each), outside the program's reach except
   * through bpf_xdp_load_bytes / store_bytes / adjust_tail.
   */
  frags?: Array<{ page: Uint8Array; size: number }>;
}

export interface SkbPacket {
  kind: 'skb';
  /** address of the struct __sk_buff */
  ctx: number;
  /** skb->head */
  head: number;
  /** skb->end: the linear buffer's end */
  end: number;
  /** ip_summed == CHECKSUM_COMPLETE, with the running skb->csum */
  csumComplete?: { csum: number };
  /** set by helpers that invalidate skb->hash (BPF_F_INVALIDATE_HASH) */
  hashCleared?: boolean;
}

/** Where a redirect helper asked the packet to go. */
export interface RedirectTarget {
  helper: 'redirect' | 'redirect_map';
  ifindex: number;
  flags: bigint;
  /** for redirect_map: the map descriptor address and key */
  map?: number;
  key?: number;
}

/** Per-run state: `ExecEnv.run` during one program run. */
export interface HelperRun {
  host: HelperHost;
  /** enum bpf_prog_type name of the running program */
  progType: string;
  progName: string;
  ctx: number;
  packet?: XdpPacket | SkbPacket;
  redirect?: RedirectTarget;
  /** scratch memory (in the space) helpers may use for keys they pass to callbacks */
  scratch?: number;
  /**
   * Ring buffer records this run reserved and has not yet submitted or
   * discarded. The verifier makes a program release them before it exits;
   * a run stopped before that (a deadline, a fault) would leave them busy
   * and stall the ring's reader for good, so whoever ran it calls
   * releaseHeld (the kernel never stops a program half-way, tsbpf may).
   * The JIT's WebAssembly reserve keeps its records elsewhere and puts one
   * entry here (rec 0) whose discard releases them (ringbuf-reserve-wasm.ts).
   */
  held?: Array<{ ring: Pick<HelperMap, 'discard'>; rec: number }>;
}

/** Discard the records a stopped run still held (HelperRun.held). */
export function releaseHeld(run: HelperRun): void {
  const held = run.held;
  if (!held) return;
  run.held = undefined;
  for (const h of held) h.ring.discard?.(h.rec, 0n);
}

/** The run state of `env`; a helper called outside a runtime-prepared run is a host error. */
export function runOf(env: ExecEnv): HelperRun {
  const r = env.run as HelperRun | undefined;
  if (!r || typeof r !== 'object' || !('host' in r)) throw new TsbpfError('EINVAL', 'helper called without runtime state (ExecEnv.run)');
  return r;
}

/** A negative errno as the unsigned 64-bit r0 a helper returns. */
export function err(e: Errno): bigint {
  return BigInt.asUintN(64, BigInt(-ERRNO_VALUES[e]));
}

/** A signed result (0 or -errno from a map operation) as r0. */
export function ret(v: number | bigint): bigint {
  return BigInt.asUintN(64, BigInt(v));
}

/** Low 32 bits as an unsigned number (helpers declare u32 arguments). */
export const u32 = (v: bigint): number => Number(v & 0xffffffffn);
/** Low 32 bits as a signed number (int arguments). */
export const s32 = (v: bigint): number => Number(BigInt.asIntN(32, v));

/** Whether [addr, addr+len) lies inside the space and past the NULL guard. */
export function inSpace(env: ExecEnv, addr: bigint, len: number): boolean {
  return addr >= BigInt(NULL_GUARD) && addr + BigInt(len) <= BigInt(env.space.size);
}
