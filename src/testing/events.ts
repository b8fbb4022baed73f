/**
 * The context of one event, built as the kernel builds it for each kind of
 * tracing program (the section name says which, as for libbpf):
 *
 * - kprobe/kretprobe/uprobe/uretprobe/usdt: the register file (regs.ts)
 *   with the arguments in the calling convention's registers, the return
 *   value in PT_REGS_RC's; ksyscall/kretsyscall: the syscall wrapper's
 *   context, whose first argument points at the user's pt_regs holding the
 *   syscall arguments (what BPF_KSYSCALL reads on x86-64 and arm64);
 * - tracepoint/tp: the record as the kernel's trace_event_raw_<event> type
 *   lays it out (from the kernel BTF; syscalls' records as
 *   trace_event_raw_sys_enter/exit), or as a tracefs `format` file says,
 *   with __data_loc strings after the fixed fields;
 * - raw_tp, tp_btf, fentry, fexit, fmod_ret, lsm, iter: the u64 argument
 *   array (fexit/fmod_ret: the return value after the arguments);
 * - perf_event: struct bpf_perf_event_data (the registers, sample_period, addr).
 */
import { TsbpfError } from '../errors.js';
import type { ProgramSpec } from '../object/spec.js';
import type { Btf } from '../object/btf/btf.js';
import { KernelObject, type KernelModel, type ObjectInit } from './model.js';
import { REGS, regsBytes, type Arch } from './regs.js';
import { formatRecord, parseFormat } from './tracefs-format.js';

/** A value passed in a register or an argument slot. */
export type ArgValue = number | bigint | boolean | string | KernelObject | null;

export interface TracingEvent {
  /** the function's (or tracepoint's) arguments: registers for probes, the argument array for raw_tp/tp_btf/fentry/fexit */
  args?: readonly ArgValue[];
  /** the return value: kretprobe/uretprobe/kretsyscall (PT_REGS_RC), fexit/fmod_ret (after the arguments) */
  ret?: ArgValue;
  /** probes: further registers by bpf_tracing.h's names (ip, sp, ...) */
  regs?: Readonly<Record<string, ArgValue>>;
  /** tracepoint: the record's fields by name (a __data_loc string by its name: `filename`) */
  fields?: ObjectInit;
  /** tracepoint: the BTF type of the record, when it is not trace_event_raw_<event> */
  record?: string;
  /** tracepoint: the tracefs format file of the event (/sys/kernel/tracing/events/CAT/NAME/format), instead of BTF */
  format?: string;
  /** perf_event: sample_period and addr */
  samplePeriod?: bigint | number;
  addr?: bigint | number;
  /** the context's bytes as they are (`--ctx-in`): nothing else is built */
  ctx?: Uint8Array;
}

/** How a program's context is built, from its section name. */
export type EventKind = 'regs' | 'syscall-regs' | 'record' | 'args' | 'perf';

const RET_SECTIONS = new Set(['kretprobe', 'uretprobe', 'kretsyscall', 'uretprobe.s', 'fexit', 'fmod_ret', 'fexit.s', 'fmod_ret.s']);

export function eventKind(ps: ProgramSpec): EventKind {
  const prefix = sectionPrefix(ps.section);
  if (prefix === 'ksyscall' || prefix === 'kretsyscall') return 'syscall-regs';
  switch (ps.type) {
    case 'kprobe':
      return 'regs';
    case 'tracepoint':
      return 'record';
    case 'perf_event':
      return 'perf';
    case 'raw_tracepoint':
    case 'raw_tracepoint_writable':
    case 'tracing':
    case 'lsm':
      return 'args';
    default:
      throw new TsbpfError('EINVAL', `program ${ps.name} (${ps.type}, section ${ps.section}) is not a tracing program: run it with program.run()`);
  }
}

function sectionPrefix(section: string): string {
  return section.replace(/^\?/, '').split('/')[0]!;
}

/** Whether the section's event carries a return value. */
function hasReturn(ps: ProgramSpec): boolean {
  return RET_SECTIONS.has(sectionPrefix(ps.section));
}

/** A value as the 64 bits a register or argument slot holds (strings become kernel strings of the model). */
function argBits(model: KernelModel, v: ArgValue | undefined): bigint {
  if (v === undefined || v === null || v === false) return 0n;
  if (v === true) return 1n;
  if (v instanceof KernelObject) return v.ptr;
  if (typeof v === 'string') return BigInt(model.string(v));
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new TsbpfError('EINVAL', `argument ${v} is not an integer`);
    return BigInt.asUintN(64, BigInt(v));
  }
  return BigInt.asUintN(64, v);
}

/** The context bytes of `ev` for program `ps`. */
export interface ContextOptions {
  /** struct trace_entry's pid: the current task's */
  commonPid?: number;
  /** CONFIG_ARCH_HAS_SYSCALL_WRAPPER: ksyscall contexts point at the user's pt_regs (default true, x86-64 and arm64) */
  syscallWrapper?: boolean;
  /** the BTF of the program's object: the record type a tracepoint program reads, when the kernel BTF has no trace_event_raw_<event> */
  programBtf?: Btf;
}

export function buildContext(model: KernelModel, arch: Arch, ps: ProgramSpec, ev: TracingEvent, opts: ContextOptions = {}): Uint8Array {
  const commonPid = opts.commonPid ?? 0;
  if (ev.ctx) return ev.ctx;
  const kind = eventKind(ps);
  const ret = hasReturn(ps);
  switch (kind) {
    case 'regs':
      return regsOf(model, arch, REGS[arch].params, ev, ret);
    case 'syscall-regs': {
      if (opts.syscallWrapper === false) return regsOf(model, arch, REGS[arch].syscallParams, ev, ret);
      // The wrapper __x64_sys_NAME(const struct pt_regs *regs): the user's registers live in memory.
      const user = regsOf(model, arch, REGS[arch].syscallParams, { ...ev, ret: undefined }, false);
      const at = model.bytes(user, 'pt_regs');
      return regsOf(model, arch, REGS[arch].params, { args: [BigInt(at)], ...(ret ? { ret: ev.ret ?? 0 } : {}) }, ret);
    }
    case 'perf': {
      const regs = regsOf(model, arch, REGS[arch].params, ev, false);
      const out = new Uint8Array(regs.length + 16);
      out.set(regs);
      const dv = new DataView(out.buffer);
      dv.setBigUint64(regs.length, BigInt.asUintN(64, BigInt(ev.samplePeriod ?? 0)), true);
      dv.setBigUint64(regs.length + 8, BigInt.asUintN(64, BigInt(ev.addr ?? 0)), true);
      return out;
    }
    case 'args': {
      const vals = [...(ev.args ?? []).map((a) => argBits(model, a)), ...(ret ? [argBits(model, ev.ret)] : [])];
      // MAX_BPF_FUNC_ARGS: the kernel's trampolines pass at most 12 (the return value included).
      if (vals.length > 12) throw new TsbpfError('E2BIG', `${vals.length} arguments: tracing programs take at most 12`);
      const out = new Uint8Array(Math.max(8, vals.length * 8));
      const dv = new DataView(out.buffer);
      vals.forEach((v, i) => dv.setBigUint64(i * 8, v, true));
      return out;
    }
    case 'record':
      return recordOf(model, ps, ev, commonPid, opts.programBtf);
  }
}

function regsOf(model: KernelModel, arch: Arch, params: readonly string[], ev: TracingEvent, ret: boolean): Uint8Array {
  const l = REGS[arch];
  const vals = new Map<string, bigint>();
  const args = ev.args ?? [];
  if (args.length > params.length) throw new TsbpfError('E2BIG', `${args.length} arguments: ${arch} passes ${params.length} in registers`);
  args.forEach((a, i) => vals.set(params[i]!, argBits(model, a)));
  if (ret) vals.set(l.rc, argBits(model, ev.ret));
  for (const [name, v] of Object.entries(ev.regs ?? {})) {
    if (l.offset[name] === undefined) throw new TsbpfError('EINVAL', `${arch} has no register ${name} (${Object.keys(l.offset).join(', ')})`);
    vals.set(name, argBits(model, v));
  }
  return regsBytes(arch, vals);
}

/** The tracepoint's category and name from `tracepoint/CAT/NAME` or `tp/CAT/NAME`. */
function tracepointName(ps: ProgramSpec): { cat: string; name: string } | undefined {
  const m = /^(?:tracepoint|tp)(?:\.s)?\/([^/]+)\/([^/]+)$/.exec(ps.section.replace(/^\?/, ''));
  return m ? { cat: m[1]!, name: m[2]! } : undefined;
}

/** Events that share a class's record type (TRACE_EVENT_CLASS + DEFINE_EVENT). */
const EVENT_CLASS: Readonly<Record<string, string>> = {
  sched_wakeup: 'sched_wakeup_template',
  sched_wakeup_new: 'sched_wakeup_template',
  sched_waking: 'sched_wakeup_template',
  sched_process_free: 'sched_process_template',
  sched_process_wait: 'sched_process_template',
  block_rq_issue: 'block_rq',
  block_rq_insert: 'block_rq',
  // include/trace/events/block.h: DEFINE_EVENT(block_rq_completion, block_rq_complete / block_rq_error)
  block_rq_complete: 'block_rq_completion',
  block_rq_error: 'block_rq_completion',
  // include/trace/events/writeback.h: DEFINE_EVENT(writeback_folio_template, writeback_dirty_folio / folio_wait_writeback)
  writeback_dirty_folio: 'writeback_folio_template',
  folio_wait_writeback: 'writeback_folio_template',
  // include/trace/events/tcp.h: DEFINE_EVENT(tcp_event_sk, tcp_receive_reset / tcp_destroy_sock / tcp_rcv_space_adjust)
  tcp_receive_reset: 'tcp_event_sk',
  tcp_destroy_sock: 'tcp_event_sk',
  tcp_rcv_space_adjust: 'tcp_event_sk',
};

function recordOf(model: KernelModel, ps: ProgramSpec, ev: TracingEvent, commonPid: number, btf: Btf | undefined): Uint8Array {
  const tp = tracepointName(ps);
  const fields: Record<string, unknown> = { ...ev.fields };
  const syscall = tp?.cat === 'syscalls' ? (/^sys_(enter|exit)_/.exec(tp.name)?.[1] as 'enter' | 'exit' | undefined) : undefined;
  // Syscall records: the arguments and the return value as the event's args / ret.
  if (syscall === 'enter' && ev.args && fields.args === undefined) fields.args = ev.args.map((a) => argBits(model, a));
  if (syscall === 'exit' && ev.ret !== undefined && fields.ret === undefined) fields.ret = BigInt.asIntN(64, argBits(model, ev.ret));
  if (ev.format !== undefined) return formatRecord(parseFormat(ev.format), { common_pid: commonPid, ...fields }, (v) => argBits(model, v as ArgValue));
  const type = ev.record ?? (syscall ? `trace_event_raw_sys_${syscall}` : tp ? recordType(model, ps, btf, tp) : undefined);
  if (!type) throw new TsbpfError('EINVAL', `${ps.name}: section ${ps.section} names no tracepoint; give the event's record type or format`);
  const id = model.typeId(type);
  const st = model.btf.typeById(model.btf.resolve(id));
  if (st.kind !== 'struct') throw new TsbpfError('EINVAL', `${type} is not a struct`);
  // The common fields (struct trace_entry): the current task's pid, as tracing_generic_entry_update sets it.
  if (fields.ent === undefined && st.members.some((m) => m.name === 'ent')) fields.ent = { pid: commonPid };
  // __data_loc fields: the string goes after the fixed part; the u32 says (length << 16) | offset.
  const tail: Uint8Array[] = [];
  let end = model.btf.sizeof(id);
  for (const m of st.members) {
    if (!m.name.startsWith('__data_loc_')) continue;
    const name = m.name.slice('__data_loc_'.length);
    const v = fields[name];
    if (v === undefined) continue;
    delete fields[name];
    const bytes = typeof v === 'string' ? new TextEncoder().encode(v + '\0') : v instanceof Uint8Array ? v : undefined;
    if (!bytes) throw new TsbpfError('EINVAL', `${type}.${name}: a __data_loc field takes a string or bytes`);
    fields[m.name] = (bytes.length << 16) | end;
    tail.push(bytes);
    end += bytes.length;
  }
  const obj = model.object(type, fields as ObjectInit);
  try {
    const out = new Uint8Array(end);
    out.set(model.space.bytes(obj.addr, obj.size));
    let at = obj.size;
    for (const b of tail) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  } finally {
    model.free(obj);
  }
}

/**
 * The record type of tracepoint `name`: trace_event_raw_<name>, else its
 * event class's (EVENT_CLASS), else the one the program itself reads the
 * record as (programRecordType), as libbpf-tools name their contexts.
 *
 * A kernel whose BTF has no btf_trace_<name> has no such tracepoint (every
 * TRACE_EVENT gets one: include/trace/bpf_probe.h), so attaching the
 * program there fails: libbpf reads the event's id from tracefs and gets
 * ENOENT (kmem/kmalloc_node, gone in 6.x; memleak then leaves its program
 * unloaded). The kit says so with the same errno; a test may still fire
 * the program on a record it describes (record, format).
 */
function recordType(model: KernelModel, ps: ProgramSpec, btf: Btf | undefined, tp: { cat: string; name: string }): string {
  const { cat, name } = tp;
  for (const n of [name, EVENT_CLASS[name]]) {
    if (n && model.btf.typeByName(`trace_event_raw_${n}`, 'struct')) return `trace_event_raw_${n}`;
  }
  const own = btf && programRecordType(model, ps, btf);
  if (own) return own;
  const how = 'give the record type (record) or the tracefs format file (format)';
  if (!model.btf.typeByName(`btf_trace_${name}`, 'typedef')) {
    throw new TsbpfError('ENOENT', `${cat}/${name} is not a tracepoint of this kernel (its BTF has no btf_trace_${name}): Linux would not attach ${ps.name} (libbpf: failed to determine tracepoint '${cat}/${name}' perf event ID: No such file or directory); to fire it anyway, ${how}`);
  }
  throw new TsbpfError('ENOENT', `the kernel BTF has no trace_event_raw_${name}: ${how}`);
}

/**
 * The trace_event_raw_* type a tracepoint program reads its record as,
 * when the kernel BTF has it: the one its CO-RE relocations name (a
 * `___flavour` suffix dropped, as libbpf matches flavours), else the type
 * its context argument points to. Undefined when it names none, or several.
 */
function programRecordType(model: KernelModel, ps: ProgramSpec, btf: Btf): string | undefined {
  const nameOf = (id: number): string | undefined => {
    const t = btf.typeById(btf.resolve(id));
    return t.kind === 'struct' && t.name.startsWith('trace_event_raw_') ? t.name.replace(/___.*$/, '') : undefined;
  };
  const known = (names: Iterable<string | undefined>): string[] =>
    [...new Set(names)].filter((n): n is string => n !== undefined && model.btf.typeByName(n, 'struct') !== undefined);
  const fromRelos = known((ps.coreRelos ?? []).map((r) => nameOf(r.typeId)));
  if (fromRelos.length) return fromRelos.length === 1 ? fromRelos[0] : undefined;
  const fn = ps.funcInfo?.find((f) => f.insnOff === 0);
  const proto = fn ? btf.typeById(btf.typeById(fn.typeId).kind === 'func' ? (btf.typeById(fn.typeId) as { typeId: number }).typeId : 0) : undefined;
  const arg = proto?.kind === 'func_proto' ? proto.params[0] : undefined;
  const ptr = arg ? btf.typeById(btf.resolve(arg.typeId)) : undefined;
  const fromArg = ptr?.kind === 'ptr' ? known([nameOf(ptr.typeId)]) : [];
  return fromArg[0];
}
