#!/usr/bin/env node
// Issue 16's "done when" measured: every tracing program of the given object
// files that tsbpf's verifier accepts (kit.load, as `tsbpf prog load
// --kernel-btf BTF` verifies it) is run once on the default synthetic event
// (the kit's current task, zeroed arguments) under the kit in both engines,
// and once by the command itself, `bin/tsbpf prog run OBJ PROG --kernel-btf
// BTF -j` (the bundled CLI, a process per program; --no-cli skips it). An
// iterator program (iter/task) is read to its end instead (kit.iterate), and
// the command must print the same output.
// Prints one line per program and a summary of the failures by cause (-j:
// JSON).
//
//   node scripts/tracing-coverage.mjs [--kernel-btf /sys/kernel/btf/vmlinux] [--no-cli] [-j] OBJ...
//
// Needs a built dist/ and CLI bundle (npm run build). scripts/tracing-coverage.sh
// fetches nothing: it builds libbpf-tools and libbpf-bootstrap checkouts you
// give it and calls this.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { TestKit, iterTarget } = await import(join(root, 'dist/src/testing/index.js'));
const { loadBtfFile } = await import(join(root, 'dist/src/object/btf/file.js'));
const { loadObjectFile } = await import(join(root, 'dist/src/object/file.js'));
const { VerifierError } = await import(join(root, 'dist/src/verifier/error.js'));

const argv = process.argv.slice(2);
let btfPath = '/sys/kernel/btf/vmlinux';
let json = false;
let cli = true;
const files = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--kernel-btf') btfPath = argv[++i];
  else if (argv[i] === '-j') json = true;
  else if (argv[i] === '--no-cli') cli = false;
  else files.push(argv[i]);
}
if (files.length === 0) {
  console.error('usage: tracing-coverage.mjs [--kernel-btf BTF] [--no-cli] [-j] OBJ...');
  process.exit(2);
}
if (cli && !existsSync(join(root, 'dist/cli'))) {
  console.error('tracing-coverage: no CLI bundle in dist/cli (npm run build, or node scripts/bundle-cli.mjs after tsc; --no-cli to skip the CLI)');
  process.exit(1);
}
const TRACING = new Set(['kprobe', 'tracepoint', 'raw_tracepoint', 'raw_tracepoint_writable', 'tracing', 'perf_event', 'lsm']);
const kernelBtf = loadBtfFile(readFileSync(btfPath));
/** A failure's cause: its errno and message with numbers, names and paths taken out, so that alike ones group. */
const cause = (e) => `${e?.errno ?? e?.name ?? 'Error'}: ${String(e?.message ?? e).split('\n')[0].replace(/^[\w.]+: /, '').replace(/insn \d+/g, 'insn N').replace(/0x[0-9a-f]+|\b\d+\b/g, 'N').slice(0, 160)}`;

/**
 * What happens to the maps before they are created that the object alone
 * does not say. libbpf gives a perf_event_array without max_entries one
 * slot per possible CPU (bpf_object__create_map; tsbpf's loader does the
 * same now: counted here as a check). The tools' own user space sizes the
 * maps they declare without a size, with bpf_map__set_value_size and
 * bpf_map__set_max_entries: a stack_trace map holds perf_max_stack_depth
 * frames (default 127) for stack_storage_size stacks (default 1024), and a
 * map keyed by pid (cpudist's `start`) gets pid_max entries (32768, the
 * kernel's default). Applied so that the programs behind such maps are
 * measured; the report counts each kind.
 */
const fixed = { perfEventArray: 0, userSpaceSized: 0 };
const PERF_MAX_STACK_DEPTH = 127;
const STACK_STORAGE_SIZE = 1024;
const PID_MAX = 32768;
function libbpfFixups(spec, kit) {
  const o = {};
  let perf = false;
  let sized = false;
  for (const [n, m] of spec.maps) {
    if (m.type === 'perf_event_array' && m.maxEntries === 0) {
      o[n] = { maxEntries: kit.runtime.numCpus };
      perf = true;
    } else if (m.type === 'stack_trace' && (m.valueSize === 0 || m.maxEntries === 0)) {
      o[n] = { valueSize: m.valueSize || PERF_MAX_STACK_DEPTH * 8, maxEntries: m.maxEntries || STACK_STORAGE_SIZE };
      sized = true;
    } else if (m.maxEntries === 0 && (m.type === 'hash' || m.type === 'lru_hash')) {
      o[n] = { maxEntries: PID_MAX };
      sized = true;
    }
  }
  if (perf) fixed.perfEventArray++;
  if (sized) fixed.userSpaceSized++;
  return o;
}

/**
 * The same event by the command: `bin/tsbpf prog run OBJ PROG --kernel-btf
 * BTF -j`, with the maps the tools' user space sizes given as --map-size
 * (the CLI's loader sizes perf_event_arrays itself). Its r0 must be the
 * kit's: one event, one answer (an iterator's: its seq output, byte for byte).
 */
function runCli(file, prog, overrides, kitRetval) {
  const sizes = Object.entries(overrides)
    .filter(([, o]) => o.valueSize !== undefined || o.maxEntries !== undefined)
    .map(([n, o]) => `${n}=${o.maxEntries ?? 0}${o.valueSize !== undefined ? `:${o.valueSize}` : ''}`);
  const args = [join(root, 'bin/tsbpf'), 'prog', 'run', file, prog, '--kernel-btf', btfPath, '-j'];
  if (sizes.length) args.push('--map-size', sizes.join(','));
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) return { cli: 'failed', cause: `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n')[0].slice(0, 160)}` };
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    return { cli: 'failed', cause: `not JSON: ${r.stdout.slice(0, 80)}` };
  }
  if (typeof kitRetval === 'object') {
    const same = Array.isArray(out.output) && out.output.length === kitRetval.length && out.output.every((b, i) => b === kitRetval[i]);
    if (!same || out.error) return { cli: 'failed', cause: `seq output of ${out.output?.length} bytes${out.error ? ` (${out.error.errno})` : ''}, the kit's ${kitRetval.length}` };
  } else if (kitRetval !== undefined && String(out.retval) !== String(kitRetval)) return { cli: 'failed', cause: `r0 ${out.retval}, the kit's ${kitRetval}` };
  return { cli: 'ok' };
}

const rows = [];
for (const file of files) {
  const obj = basename(file, '.o');
  let spec;
  try {
    spec = await loadObjectFile(file);
  } catch (e) {
    rows.push({ obj, prog: '*', type: '?', verdict: 'open-failed', cause: cause(e) });
    continue;
  }
  for (const [name, ps] of spec.programs) {
    if (!TRACING.has(ps.type)) continue;
    const row = { obj, prog: name, type: ps.attachType ? `${ps.type}/${ps.attachType}` : ps.type, section: ps.section };
    let overrides = {};
    let kitRetval;
    for (const engine of ['jit', 'interpreter']) {
      const kit = new TestKit({ kernelBtf, runtime: { engine } });
      try {
        let coll;
        try {
          overrides = libbpfFixups(spec, kit);
          coll = await kit.load(spec, { programs: [name], mapOverrides: overrides });
        } catch (e) {
          // the verifier's verdict, or a refusal of the rest of the load (maps, helpers the runtime lacks)
          row.verdict = e instanceof VerifierError ? 'rejected' : 'load-failed';
          row.cause = cause(e);
          break;
        }
        try {
          const prog = coll.program(name);
          if (iterTarget(prog.spec.section) !== undefined) {
            // read to its end as cat reads the pinned file; a read error is a failure to run
            const r = await kit.iterate(prog);
            if (r.error) throw Object.assign(new Error(r.error.message), { errno: r.error.errno });
            if (engine === 'jit') kitRetval = r.output;
          } else {
            const r = await kit.fire(prog);
            if (engine === 'jit') kitRetval = r.retval;
          }
          row[engine] = 'ok';
        } catch (e) {
          row[engine] = 'failed';
          row.cause ??= cause(e);
        }
      } finally {
        kit.close();
      }
    }
    // a tracepoint this kernel does not have: Linux loads the program but will not attach it (the kit says so)
    if (row.cause && / is not a tracepoint of this kernel /.test(row.cause)) row.verdict ??= 'not-attachable';
    row.verdict ??= row.jit === 'ok' && row.interpreter === 'ok' ? 'ran' : 'run-failed';
    if (cli && row.verdict !== 'rejected') {
      const c = runCli(file, name, overrides, kitRetval);
      row.cli = c.cli;
      if (c.cause) row.cliCause = c.cause;
    }
    rows.push(row);
    if (!json) console.log(`${row.verdict.padEnd(10)} ${(row.cli ? `cli-${row.cli}` : '').padEnd(10)} ${`${obj}:${name}`.padEnd(48)} ${row.type.padEnd(24)} ${row.cause ?? ''}${row.cliCause ? ` [cli: ${row.cliCause}]` : ''}`);
  }
}
const count = (v) => rows.filter((r) => r.verdict === v).length;
const byCause = (v) => {
  const m = new Map();
  for (const r of rows) if (r.verdict === v) m.set(r.cause, (m.get(r.cause) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]);
};
const accepted = rows.filter((r) => r.verdict !== 'rejected' && r.verdict !== 'open-failed').length;
const cliRan = rows.filter((r) => r.cli === 'ok').length;
const cliFailed = new Map();
for (const r of rows) if (r.cli === 'failed') cliFailed.set(r.cliCause.replace(/\b\d+\b/g, 'N'), (cliFailed.get(r.cliCause.replace(/\b\d+\b/g, 'N')) ?? 0) + 1);
const summary = {
  programs: rows.length,
  accepted,
  ran: count('ran'),
  ...(cli ? { cliRan, cliFailed: [...cliFailed].sort((a, b) => b[1] - a[1]) } : {}),
  runFailed: byCause('run-failed'),
  notAttachable: byCause('not-attachable'),
  loadFailed: byCause('load-failed'),
  rejected: byCause('rejected'),
  openFailed: byCause('open-failed'),
  perfEventArrayFixups: fixed.perfEventArray,
  userSpaceSizedLoads: fixed.userSpaceSized,
};
if (json) console.log(JSON.stringify({ summary, rows }, null, 1));
else {
  console.log(`\n${summary.programs} tracing programs, ${accepted} accepted by the verifier: ${summary.ran} ran under the kit in both engines, ${count('run-failed')} failed to run, ${count('not-attachable')} are at tracepoints this kernel lacks (Linux would not attach them), ${count('load-failed')} were refused at load outside the verifier, ${count('rejected')} were rejected by the verifier`);
  if (cli) console.log(`tsbpf prog run --kernel-btf: ${cliRan} of the ${accepted} accepted ran with the kit's r0`);
  console.log(`(loads with a perf_event_array sized to the CPUs, as libbpf and tsbpf's loader do: ${fixed.perfEventArray}; with maps sized as the tools' user space sizes them: ${fixed.userSpaceSized})`);
  for (const [title, list] of [['run failed', summary.runFailed], ['tsbpf prog run failed', summary.cliFailed ?? []], ['not attachable on this kernel (the kit refuses to fire them, as Linux refuses to attach)', summary.notAttachable], ['load refused (not by the verifier)', summary.loadFailed], ['rejected by the verifier', summary.rejected], ['object not opened', summary.openFailed]]) {
    if (list.length === 0) continue;
    console.log(`\n${title}:`);
    for (const [c, n] of list) console.log(`  ${String(n).padStart(4)}  ${c}`);
  }
}
