/**
 * `tsbpf prog run FILE PROG --kernel-btf BTF [...]`: a tracing program run on
 * one event of a modelled kernel (src/testing), as the test kit fires it.
 * The kernel is laid out as BTF says (`/sys/kernel/btf/vmlinux`, a BTFHub
 * file, or `shipped`: the small kernel tsbpf ships); without --event, the
 * event is synthetic: the kit's current task and zeroed arguments.
 *
 * The event as flags: --args A,B,.. (integers, 0x hex, or "strings"
 * as kernel strings), --ret V, --fields k=v,.. (tracepoint fields), --format F
 * (a tracefs format file), --pid/--tgid/--comm/--uid/--gid (the current
 * task); or as a JSON file (--event F) of the kit's FireOptions, where an
 * argument `{"object": "task_struct", "fields": {...}}` is a model object
 * and `"task"` holds the current task's fields. Prints r0, the ring buffer
 * records, the recorded helper calls, bpf_printk lines and the maps the run
 * changed (-j: all as JSON).
 *
 * An iterator program (iter/task) is read instead, as `cat` reads its
 * pinned file (kit.iterate): it prints the seq output as it is (-j: with
 * the records, calls, trace and maps changed beside it); the JSON event's
 * `"link_info": {"task": {"tid": N} | {"pid": N}}` narrows the tasks. A
 * read error is printed after the output, and the exit status is 1.
 */
import { readFileSync } from 'node:fs';
import { CliUsageError, jsonText } from './args.js';
import { TsbpfError } from '../errors.js';
import { readBounded } from '../bounded-read.js';
import { loadObjectFileSync } from '../object/file.js';
import { withHostKconfig } from './host-kconfig.js';
import { readBtfPath } from './btf-input.js';
import { iterTarget, TestKit, type FireOptions, type IterateOptions } from '../testing/kit.js';
import type { ArgValue } from '../testing/events.js';
import type { KernelObject, ObjectInit } from '../testing/model.js';
import { shippedKernelBtf } from '../testing/kernel-btf.js';
import type { BpfMap } from '../maps/map.js';
import type { Collection, Program } from '../runtime/runtime.js';
import { hexPrint } from './commands/prog-run.js';

export interface KernelRunFlags {
  'kernel-btf': string;
  event?: string;
  args?: string;
  ret?: string;
  fields?: string;
  format?: string;
  'ctx-in'?: string;
  pid?: string;
  tgid?: string;
  comm?: string;
  uid?: string;
  gid?: string;
  arch?: string;
  'map-size'?: string;
  json: boolean;
  pretty: boolean;
  engine?: 'jit' | 'interpreter';
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** A value written on the command line: an integer (decimal, 0x, negative) or a "quoted" string. */
function scalar(s: string, what: string): bigint | string {
  const t = s.trim();
  if (/^".*"$/.test(t)) return t.slice(1, -1);
  if (/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
  throw new CliUsageError(`${what}: '${s}' is neither an integer nor a "quoted string"`);
}

/** An integer of the JSON event: a number, or a string of one (decimal or 0x hex: ips do not fit a JSON number). */
function jsonInt(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(v.trim())) return scalar(v, what) as bigint;
  throw new CliUsageError(`${what}: ${JSON.stringify(v)} is not an integer`);
}

/** A value of the JSON event: an object description becomes a model object; strings stay kernel strings. */
function jsonArg(kit: TestKit, v: unknown, what: string): ArgValue {
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && 'object' in v) {
    const o = v as { object: unknown; fields?: unknown };
    if (typeof o.object !== 'string') throw new CliUsageError(`${what}: "object" names a kernel type`);
    return kit.model.object(o.object, (o.fields ?? {}) as ObjectInit);
  }
  throw new CliUsageError(`${what}: an argument is a number, a boolean, a string, null or {"object": TYPE, "fields": {...}}`);
}

function snapshot(coll: Collection): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [name, m] of coll.maps) {
    if (['ringbuf', 'perf_event_array', 'cgroup_array', 'prog_array', 'array_of_maps', 'hash_of_maps', 'queue', 'stack', 'bloom_filter', 'task_storage', 'inode_storage', 'sk_storage', 'cgrp_storage'].includes(m.type)) continue;
    const entries = new Map<string, string>();
    for (const [k, v] of (m as BpfMap<unknown>).entries()) entries.set(hex(k), Array.isArray(v) ? v.map((x: Uint8Array) => hex(x)).join(' | ') : hex(v as Uint8Array));
    out.set(name, entries);
  }
  return out;
}

/** `--map-size NAME=MAX_ENTRIES[:VALUE_SIZE],..`: what bpf_map__set_max_entries / bpf_map__set_value_size set before load. */
function mapSizes(arg: string | undefined, maps: ReadonlyMap<string, unknown>): Record<string, { maxEntries: number; valueSize?: number }> {
  const out: Record<string, { maxEntries: number; valueSize?: number }> = {};
  for (const item of (arg ?? '').split(',').filter((x) => x.trim() !== '')) {
    const m = /^\s*([^=\s]+)=(\d+)(?::(\d+))?\s*$/.exec(item);
    if (!m) throw new CliUsageError(`--map-size: '${item}' is not NAME=MAX_ENTRIES[:VALUE_SIZE]`);
    if (!maps.has(m[1]!)) throw new CliUsageError(`--map-size: the object has no map ${m[1]} (it has: ${[...maps.keys()].join(', ')})`);
    const n = (s: string): number => {
      const v = Number(s);
      if (!Number.isSafeInteger(v) || v > 0xffffffff) throw new CliUsageError(`--map-size: ${s} is not a u32`);
      return v;
    };
    out[m[1]!] = { maxEntries: n(m[2]!), ...(m[3] !== undefined ? { valueSize: n(m[3]) } : {}) };
  }
  return out;
}

export async function runWithKernel(file: string, progName: string, f: KernelRunFlags): Promise<number> {
  const btf = f['kernel-btf'] === 'shipped' ? shippedKernelBtf() : readBtfPath(f['kernel-btf']);
  const arch = f.arch ?? 'x86_64';
  if (arch !== 'x86_64' && arch !== 'arm64') throw new CliUsageError(`unknown --arch ${arch} (x86_64, arm64)`);
  using kit = new TestKit({ kernelBtf: btf, arch, ...(f.engine ? { runtime: { engine: f.engine } } : {}) });
  const spec = await withHostKconfig(loadObjectFileSync(file));
  if (!spec.programs.has(progName)) throw new TsbpfError('ENOENT', `no program ${progName} in ${file} (it has: ${[...spec.programs.keys()].join(', ')})`);
  const mapOverrides = mapSizes(f['map-size'], spec.maps);
  let coll: Collection;
  try {
    coll = await kit.load(spec, { mapOverrides });
  } catch {
    coll = await kit.load(spec, { programs: [progName], mapOverrides });
  }
  const ev: FireOptions = {};
  const iterOpts: IterateOptions = {};
  let taskFields: Record<string, unknown> = {};
  if (f.event !== undefined) {
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(new TextDecoder().decode(readBounded(f.event, { kind: 'packet' }))) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof SyntaxError) throw new CliUsageError(`--event ${f.event}: ${e.message}`);
      throw e;
    }
    if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new CliUsageError(`--event ${f.event}: expected a JSON object`);
    if (Array.isArray(j.args)) ev.args = j.args.map((a, i) => jsonArg(kit, a, `args[${i}]`));
    if (j.ret !== undefined) ev.ret = jsonArg(kit, j.ret, 'ret');
    if (j.regs !== undefined) ev.regs = Object.fromEntries(Object.entries(j.regs as object).map(([k, v]) => [k, jsonArg(kit, v, `regs.${k}`)]));
    if (j.fields !== undefined) ev.fields = j.fields as ObjectInit;
    if (typeof j.record === 'string') ev.record = j.record;
    if (typeof j.format === 'string') ev.format = readFileSync(j.format, 'utf8');
    if (typeof j.task === 'object' && j.task !== null) taskFields = j.task as Record<string, unknown>;
    if (typeof j.link_info === 'object' && j.link_info !== null) {
      const t = (j.link_info as { task?: Record<string, unknown> }).task ?? {};
      iterOpts.task = Object.fromEntries(['tid', 'pid', 'pid_fd'].filter((k) => t[k] !== undefined).map((k) => [k, Number(jsonInt(t[k], `link_info.task.${k}`))]));
    }
    if (typeof j.cpu === 'number') ev.cpu = j.cpu;
    if (j.cookie !== undefined) ev.cookie = jsonInt(j.cookie, 'cookie');
    if (typeof j.stack === 'object' && j.stack !== null) {
      const s = j.stack as { kernel?: unknown[]; user?: unknown[] };
      ev.stack = { kernel: (s.kernel ?? []).map((x, i) => jsonInt(x, `stack.kernel[${i}]`)), user: (s.user ?? []).map((x, i) => jsonInt(x, `stack.user[${i}]`)) };
    }
    // perf_event: the sample's period and address, and the sampling event's counts (bpf_perf_prog_read_value)
    if (j.samplePeriod !== undefined) ev.samplePeriod = jsonInt(j.samplePeriod, 'samplePeriod');
    if (j.addr !== undefined) ev.addr = jsonInt(j.addr, 'addr');
    if (typeof j.perfCounter === 'object' && j.perfCounter !== null) {
      const c = j.perfCounter as Record<string, unknown>;
      ev.perfCounter = { counter: jsonInt(c.counter ?? 0, 'perfCounter.counter'), enabled: jsonInt(c.enabled ?? 0, 'perfCounter.enabled'), running: jsonInt(c.running ?? 0, 'perfCounter.running') };
    }
  }
  if (f.args !== undefined) ev.args = f.args.split(',').filter((s) => s.trim() !== '').map((s, i) => scalar(s, `--args[${i}]`));
  if (f.ret !== undefined) ev.ret = scalar(f.ret, '--ret');
  if (f.fields !== undefined) {
    const fields: Record<string, bigint | string> = {};
    for (const kv of f.fields.split(',')) {
      const at = kv.indexOf('=');
      if (at <= 0) throw new CliUsageError(`--fields: '${kv}' is not NAME=VALUE`);
      fields[kv.slice(0, at).trim()] = scalar(kv.slice(at + 1), `--fields ${kv.slice(0, at)}`);
    }
    ev.fields = { ...ev.fields, ...fields };
  }
  if (f.format !== undefined) ev.format = readFileSync(f.format, 'utf8');
  if (f['ctx-in'] !== undefined) ev.ctx = readBounded(f['ctx-in'], { kind: 'packet' });
  for (const k of ['pid', 'tgid', 'uid', 'gid'] as const) if (f[k] !== undefined) taskFields[k === 'uid' || k === 'gid' ? `cred.${k}` : k] = scalar(f[k], `--${k}`);
  if (f.comm !== undefined) taskFields.comm = f.comm;
  applyTask(kit.task, taskFields);
  const before = snapshot(coll);
  const prog = coll.program(progName);
  if (iterTarget(prog.spec.section) !== undefined) return await readIter(kit, coll, prog, iterOpts, before, f);
  const r = await kit.fire(prog, ev);
  const changed = mapsChanged(before, snapshot(coll));
  const calls = r.calls.map((c) => ({ helper: c.helper, args: Object.fromEntries(Object.entries(c.args).map(([k, v]) => [k, Number(v)])) }));
  if (f.json || f.pretty) {
    const records = Object.fromEntries(Object.entries(r.records).map(([k, v]) => [k, v.map((x) => Array.from(x))]));
    process.stdout.write(jsonText({ retval: r.retval.toString(), records, calls, trace: r.trace.map((t) => t.message), maps_changed: changed }, f.pretty));
    return 0;
  }
  let text = `Return value: ${BigInt.asIntN(64, r.retval)}\n`;
  for (const [name, recs] of Object.entries(r.records)) for (const rec of recs) text += `ring buffer ${name}: record of ${rec.length} bytes\n${hexPrint(rec)}`;
  for (const c of calls) text += `call bpf_${c.helper}(${Object.entries(c.args).map(([k, v]) => `${k}=${v}`).join(', ')})\n`;
  for (const t of r.trace) text += `bpf_trace_printk: ${t.message}\n`;
  for (const [name, rows] of Object.entries(changed)) for (const row of rows) text += `map ${name}: key ${row.key}: ${row.before ?? '(none)'} -> ${row.after ?? '(deleted)'}\n`;
  process.stdout.write(text);
  return 0;
}

type MapsChanged = Record<string, Array<{ key: string; before: string | null; after: string | null }>>;

function mapsChanged(before: Map<string, Map<string, string>>, after: Map<string, Map<string, string>>): MapsChanged {
  const changed: MapsChanged = {};
  for (const [name, a] of after) {
    const b = before.get(name)!;
    const rows = [...new Set([...b.keys(), ...a.keys()])].filter((k) => b.get(k) !== a.get(k)).map((k) => ({ key: k, before: b.get(k) ?? null, after: a.get(k) ?? null }));
    if (rows.length) changed[name] = rows;
  }
  return changed;
}

/** An iterator's file read to its end: the output as `cat` prints it (-j: with what the runs did beside it). */
async function readIter(kit: TestKit, coll: Collection, prog: Program, opts: IterateOptions, before: Map<string, Map<string, string>>, f: KernelRunFlags): Promise<number> {
  const r = await kit.iterate(prog, opts);
  const changed = mapsChanged(before, snapshot(coll));
  if (f.json || f.pretty) {
    const records = Object.fromEntries(Object.entries(r.records).map(([k, v]) => [k, v.map((x) => Array.from(x))]));
    const calls = r.calls.map((c) => ({ helper: c.helper, args: Object.fromEntries(Object.entries(c.args).map(([k, v]) => [k, Number(v)])) }));
    process.stdout.write(jsonText({ output_text: r.text, output: Array.from(r.output), runs: r.runs, ...(r.error ? { error: r.error } : {}), records, calls, trace: r.trace.map((t) => t.message), maps_changed: changed }, f.pretty));
  } else {
    process.stdout.write(r.output);
    if (r.error) process.stderr.write(`Error: ${r.error.message} (${r.error.errno})\n`);
  }
  return r.error ? 1 : 0;
}

/** The current task's fields from flags or the JSON event (`cred.uid`-style paths reach nested objects). */
function applyTask(task: KernelObject, fields: Record<string, unknown>): void {
  const init: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    const parts = k.split('.');
    let at = init;
    for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
    at[parts[parts.length - 1]!] = v;
  }
  // A new cred keeps the ids the flags do not change.
  if (init.cred) init.cred = { uid: task.get('cred.uid'), gid: task.get('cred.gid'), ...(init.cred as object) };
  task.set(init as ObjectInit);
}
