/**
 * `tsbpf prog run FILE PROG data_in F [data_out F [data_size_out L]]
 * [ctx_in F [ctx_out F]] [repeat N]`: BPF_PROG_TEST_RUN on a program of an
 * object file, like `bpftool prog run` (whose PROG names a loaded program;
 * here it is a program of FILE). The `--data-in F` spelling works too.
 *
 * Output is bpftool's: `-` as an output file prints the bytes (plain: its
 * hex_print layout of 16 bytes a row with offsets and ASCII; -j: an array
 * of byte values under "data_out" / "ctx_out"), then `Return value: N,
 * duration: Nns` or `{"retval":N,"duration":N}`.
 */
import { CliUsageError, parse, JSON_OPTS, type OptionSpec, jsonText } from '../args.js';
import { loadObjectFileSync } from '../../object/file.js';
import { withHostKconfig } from '../host-kconfig.js';
import { Runtime } from '../../runtime/runtime.js';
import type { CollectionApi, ProgramApi, RuntimeApi } from '../../runtime/api.js';
import { TsbpfError } from '../../errors.js';
import { readBounded, writeOutput } from '../../bounded-read.js';
import type { TestRunOptions } from '../../runtime/testrun/types.js';
import type { CollectionSpec } from '../../object/spec.js';
import { progress } from '../progress.js';
import { writeStdout } from '../stdout.js';
import type { KernelRunFlags } from '../prog-run-kernel.js';

export const options: OptionSpec = {
  ...JSON_OPTS,
  'data-in': { type: 'string' },
  'data-out': { type: 'string' },
  'data-size-out': { type: 'string' },
  'ctx-in': { type: 'string' },
  'ctx-out': { type: 'string' },
  repeat: { type: 'string' },
  jit: { type: 'boolean' },
  interpret: { type: 'boolean' },
  'kernel-btf': { type: 'string' },
  event: { type: 'string' },
  args: { type: 'string' },
  ret: { type: 'string' },
  fields: { type: 'string' },
  format: { type: 'string' },
  pid: { type: 'string' },
  tgid: { type: 'string' },
  comm: { type: 'string' },
  uid: { type: 'string' },
  gid: { type: 'string' },
  arch: { type: 'string' },
  'map-size': { type: 'string' },
  kernel: { type: 'boolean' },
};

const KERNEL_FLAGS = ['event', 'args', 'ret', 'fields', 'format', 'pid', 'tgid', 'comm', 'uid', 'gid', 'arch', 'map-size'] as const;

export const usage = `Usage: tsbpf prog run { FILE PROG | id N | pinned PATH } data_in F [data_out F [data_size_out L]]
                      [ctx_in F [ctx_out F]] [repeat N] [--jit | --interpret | --kernel] [-j|-p]
  Runs program PROG of object FILE once per repeat on the packet in data_in
  and the context in ctx_in (BPF_PROG_TEST_RUN; when prog_array slots name
  programs, the whole object is loaded so tail calls reach them, otherwise
  PROG alone). The words may be spelled --data-in,
  --data-out, --data-size-out, --ctx-in, --ctx-out, --repeat.
  --kernel                 load FILE into the running kernel and run PROG there (root or CAP_BPF)
  id N | pinned PATH       a program the kernel holds, as bpftool's PROG (root or CAP_BPF)
  data_out F / ctx_out F   write the packet / context after the run to F;
                           F '-' prints them (hex rows; -j: "data_out"/"ctx_out" byte arrays)
  data_size_out L          the output buffer's size (smaller than the packet: ENOSPC)
  repeat N                 runs, duration is their average (0 means 1)
  --jit | --interpret      the engine (default: one run (no repeat, or repeat 0 or 1) on the
                           interpreter, as the tiered engine starts, without a JIT compile;
                           repeat N > 1 on the JIT; the results are the same)
  Inputs are limited to 16 MiB (E2BIG above).

       tsbpf prog run FILE PROG --kernel-btf BTF [--event F.json] [--args A,B,..] [--ret V]
                      [--fields K=V,..] [--format F] [--ctx-in F] [--pid N] [--tgid N]
                      [--comm S] [--uid N] [--gid N] [--arch x86_64|arm64]
                      [--map-size NAME=MAX_ENTRIES[:VALUE_SIZE],..] [-j|-p]
  Runs a tracing program (kprobe, tracepoint, raw_tp, tp_btf, fentry, ...) on one
  event of a kernel modelled from BTF (docs/testing.md): BTF is a file
  (/sys/kernel/btf/vmlinux, a BTFHub file) or 'shipped' (tsbpf's small kernel).
  Without event flags: the default current task (pid 1000, comm tsbpf-test) and
  zeroed arguments. Values are integers (0x hex) or "quoted strings" (kernel
  strings); --fields names tracepoint record fields; --format F reads the record's
  layout from a tracefs format file; --event F is a JSON FireOptions (args may be
  {"object": "task_struct", "fields": {...}}; "task" sets the current task's fields).
  --map-size sizes maps before they are created, as a tool's user space does with
  bpf_map__set_max_entries / bpf_map__set_value_size (libbpf-tools' stack maps).
  Prints the return value, ring buffer records, recorded helper calls (send_signal,
  ...), bpf_printk lines and the maps the run changed (-j: JSON).
  An iterator program (iter/task) is read as cat reads its pinned file: once per
  task of the model, then the stop call; it prints the seq output as it is (-j:
  "output_text", "output" bytes, "runs", "error"); the --event file's
  "link_info": {"task": {"tid": N}} or {"task": {"pid": N}} narrows the tasks.
`;

const WORDS: Record<string, string> = {
  data_in: '--data-in',
  data_out: '--data-out',
  data_size_out: '--data-size-out',
  ctx_in: '--ctx-in',
  ctx_out: '--ctx-out',
  repeat: '--repeat',
};

/** bpftool's hex_print: offset, 16 bytes in pairs, then the printable characters. */
export function hexPrint(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 16) {
    const row = b.subarray(i, i + 16);
    let hex = '';
    let text = '';
    for (let j = 0; j < 16; j++) {
      hex += j < row.length ? row[j]!.toString(16).padStart(2, '0') : '  ';
      if (j % 2) hex += ' ';
      if (j < row.length) {
        const c = row[j]!;
        text += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '.';
        if (j === 7) text += ' ';
      }
    }
    s += `${i.toString(16).padStart(7, '0')}\t${hex}| ${text}\n`;
  }
  return s;
}

function count(v: unknown, what: string, max: number): number | undefined {
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n > max) throw new CliUsageError(`invalid ${what} '${v}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { positionals, values } = parse(argv.map((a) => WORDS[a] ?? a), options);
  const [file, progName] = positionals;
  if (!file || !progName || positionals.length > 2) throw new CliUsageError('expected FILE and PROG');
  if (values.jit && values.interpret) throw new CliUsageError('--jit and --interpret are exclusive');
  const json = Boolean(values.json || values.pretty);
  if (typeof values['kernel-btf'] === 'string') {
    if (values.kernel) throw new CliUsageError('--kernel runs the program in the running kernel; --kernel-btf runs it on a modelled one: choose one');
    if (values['data-in'] !== undefined || values.repeat !== undefined || values['data-out'] !== undefined || values['ctx-out'] !== undefined)
      throw new CliUsageError('--kernel-btf runs one event: data_in, data_out, ctx_out and repeat do not apply');
    const flags: KernelRunFlags = { 'kernel-btf': values['kernel-btf'], json: Boolean(values.json), pretty: Boolean(values.pretty) };
    for (const k of KERNEL_FLAGS) if (typeof values[k] === 'string') flags[k] = values[k] as string;
    if (typeof values['ctx-in'] === 'string') flags['ctx-in'] = values['ctx-in'];
    if (values.jit) flags.engine = 'jit';
    if (values.interpret) flags.engine = 'interpreter';
    // The modelled kernel (src/testing) only when asked for: a packet run does not load it.
    const { runWithKernel } = await import('../prog-run-kernel.js');
    return runWithKernel(file, progName, flags);
  }
  for (const k of KERNEL_FLAGS) if (values[k] !== undefined) throw new CliUsageError(`--${k} describes an event of a modelled kernel: it needs --kernel-btf`);
  const opts: TestRunOptions = {};
  if (typeof values['data-in'] === 'string') opts.data = readBounded(values['data-in'], { kind: 'packet' });
  if (typeof values['ctx-in'] === 'string') opts.ctx = readBounded(values['ctx-in'], { kind: 'packet' });
  const repeat = count(values.repeat, 'repeat', 0xffffffff);
  if (repeat !== undefined) opts.repeat = repeat;
  const sizeOut = count(values['data-size-out'], 'data_size_out', 0xffffffff);
  if (sizeOut !== undefined) opts.dataSizeOut = sizeOut;
  const kernelProg = file === 'id' || file === 'pinned';
  if ((values.kernel || kernelProg) && (values.jit || values.interpret)) throw new CliUsageError('--jit and --interpret choose tsbpf\'s engine; the kernel runs its own');
  if (kernelProg && file === 'id' && !/^\d+$/.test(progName)) throw new CliUsageError(`invalid program id '${progName}'`);
  const target = kernelProg ? await kernelProgram(file === 'id' ? { id: Number(progName) } : { pinned: progName }) : await objectProgram(file, progName, values, engineFor(values, repeat));
  try {
    const busy = repeat !== undefined && repeat > 100_000 ? progress(`running ${target.prog.name} ${repeat} times`, 0, { json }) : undefined;
    busy?.update(0, '...');
    let res;
    try {
      res = target.prog.run(opts);
    } finally {
      busy?.end();
    }
    const o: Record<string, unknown> = {};
    let text = '';
    const out = (dest: unknown, bytes: Uint8Array | undefined, key: 'data_out' | 'ctx_out'): void => {
      if (typeof dest !== 'string' || !bytes) return;
      if (dest !== '-') return writeOutput(dest, bytes);
      if (json) o[key] = Array.from(bytes);
      else text += hexPrint(bytes);
    };
    out(values['data-out'], res.data, 'data_out');
    out(values['ctx-out'], res.ctx, 'ctx_out');
    if (json) {
      o.retval = res.retval;
      o.duration = res.duration;
      writeStdout(jsonText(o, values.pretty));
    } else {
      text += `Return value: ${res.retval}, duration${repeat !== undefined && repeat > 1 ? ' (average)' : ''}: ${res.duration}ns\n`;
      writeStdout(text);
    }
    return 0;
  } finally {
    target.close();
  }
}

/**
 * The engine of a run on tsbpf's runtime: --jit or --interpret when given; else the tiered engine
 * for one run and the JIT for repeated runs. One run pays no JIT compile on the tiered engine (it
 * starts on the interpreter, and the JIT compiles a program at its 65th run): a whole `prog run`
 * of a 1,368-instruction program runs 630.8 M instructions on the JIT, 555.4 M tiered; a
 * 2-instruction one the same on both (BENCHMARKS.md, "Start-up"). The tiered engine, not the
 * interpreter, because it is the JIT's kind: programs load with the same facts (prog_array
 * ownership, src/runtime/runtime.ts programFacts) as on the JIT. Repeated runs stay on the JIT,
 * whose duration `repeat` measures.
 */
function engineFor(values: Record<string, unknown>, repeat: number | undefined): 'jit' | 'interpreter' | 'tiered' {
  if (values.jit) return 'jit';
  if (values.interpret) return 'interpreter';
  return repeat !== undefined && repeat > 1 ? 'jit' : 'tiered';
}

interface Target {
  prog: ProgramApi;
  close(): void;
}

/**
 * PROG of FILE, in tsbpf's runtime or (--kernel) the running kernel's. When a
 * map's initial contents name programs (prog_array slots, libbpf's
 * `__array(values, ...)`), the whole object is loaded, like `bpftool prog
 * loadall`, so those slots are filled and tail calls reach their programs; if
 * another program fails to load, this one is loaded alone. Otherwise no other
 * program can be reached from this one, and it is loaded alone from the start:
 * verifying and compiling the others would only cost start-up time (issue 17).
 */
async function objectProgram(file: string, progName: string, values: Record<string, unknown>, engine: 'jit' | 'interpreter' | 'tiered'): Promise<Target> {
  // read synchronously, as data_in is: one asynchronous fs call starts libuv's thread pool (four
  // threads) for a command that does nothing else meanwhile (BENCHMARKS.md, "Start-up")
  const spec = await withHostKconfig(loadObjectFileSync(file));
  if (!spec.programs.has(progName)) throw new TsbpfError('ENOENT', `no program ${progName} in ${file} (it has: ${[...spec.programs.keys()].join(', ')})`);
  const rt: RuntimeApi = values.kernel ? new (await import('../../kernel/index.js')).KernelRuntime() : new Runtime({ engine });
  try {
    const alone = { programs: [progName] };
    let coll: CollectionApi;
    if (!namesPrograms(spec)) coll = await rt.load(spec, alone);
    else
      try {
        coll = await rt.load(spec);
      } catch {
        coll = await rt.load(spec, alone);
      }
    return { prog: coll.program(progName), close: () => rt.close() };
  } catch (e) {
    rt.close();
    throw e;
  }
}

/** Does a map of `spec` start with slots naming programs (so that loading them changes what a run can reach)? */
function namesPrograms(spec: CollectionSpec): boolean {
  for (const m of spec.maps.values()) if (m.contents?.some((c) => 'program' in c)) return true;
  return false;
}

/** A program the kernel holds (`id N`, `pinned PATH`). */
async function kernelProgram(ref: { id: number } | { pinned: string }): Promise<Target> {
  const prog = await new (await import('../../kernel/index.js')).KernelRuntime().openProgram(ref);
  return { prog, close: () => prog.close() };
}
