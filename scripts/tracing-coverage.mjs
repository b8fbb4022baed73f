#!/usr/bin/env node
// Issue 16's "done when" measured: every tracing program of the given object
// files that tsbpf's verifier accepts (kit.load, as `tsbpf prog load
// --kernel-btf BTF` verifies it) is run once on the default synthetic event
// (the kit's current task, zeroed arguments), as `tsbpf prog run OBJ PROG
// --kernel-btf BTF` does, in both engines. Prints one line per program and a
// summary of the failures by cause (-j: JSON).
//
//   node scripts/tracing-coverage.mjs [--kernel-btf /sys/kernel/btf/vmlinux] [-j] OBJ...
//
// Needs a built dist/ (npx tsc -p tsconfig.json). scripts/tracing-coverage.sh
// fetches nothing: it builds libbpf-tools and libbpf-bootstrap checkouts you
// give it and calls this.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { TestKit } = await import(join(root, 'dist/src/testing/index.js'));
const { loadBtfFile } = await import(join(root, 'dist/src/object/btf/file.js'));
const { loadObjectFile } = await import(join(root, 'dist/src/object/file.js'));
const { VerifierError } = await import(join(root, 'dist/src/verifier/error.js'));

const argv = process.argv.slice(2);
let btfPath = '/sys/kernel/btf/vmlinux';
let json = false;
const files = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--kernel-btf') btfPath = argv[++i];
  else if (argv[i] === '-j') json = true;
  else files.push(argv[i]);
}
if (files.length === 0) {
  console.error('usage: tracing-coverage.mjs [--kernel-btf BTF] [-j] OBJ...');
  process.exit(2);
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
    for (const engine of ['jit', 'interpreter']) {
      const kit = new TestKit({ kernelBtf, runtime: { engine } });
      try {
        let coll;
        try {
          coll = await kit.load(spec, { programs: [name], mapOverrides: libbpfFixups(spec, kit) });
        } catch (e) {
          // the verifier's verdict, or a refusal of the rest of the load (maps, helpers the runtime lacks)
          row.verdict = e instanceof VerifierError ? 'rejected' : 'load-failed';
          row.cause = cause(e);
          break;
        }
        try {
          await kit.fire(coll.program(name));
          row[engine] = 'ok';
        } catch (e) {
          row[engine] = 'failed';
          row.cause ??= cause(e);
        }
      } finally {
        kit.close();
      }
    }
    row.verdict ??= row.jit === 'ok' && row.interpreter === 'ok' ? 'ran' : 'run-failed';
    rows.push(row);
    if (!json) console.log(`${row.verdict.padEnd(10)} ${`${obj}:${name}`.padEnd(48)} ${row.type.padEnd(24)} ${row.cause ?? ''}`);
  }
}
const count = (v) => rows.filter((r) => r.verdict === v).length;
const byCause = (v) => {
  const m = new Map();
  for (const r of rows) if (r.verdict === v) m.set(r.cause, (m.get(r.cause) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]);
};
const summary = {
  programs: rows.length,
  ran: count('ran'),
  runFailed: byCause('run-failed'),
  loadFailed: byCause('load-failed'),
  rejected: byCause('rejected'),
  openFailed: byCause('open-failed'),
  perfEventArrayFixups: fixed.perfEventArray,
  userSpaceSizedLoads: fixed.userSpaceSized,
};
if (json) console.log(JSON.stringify({ summary, rows }, null, 1));
else {
  console.log(`\n${summary.programs} tracing programs: ${summary.ran} ran in both engines, ${count('run-failed')} failed to run, ${count('load-failed')} were refused at load outside the verifier, ${count('rejected')} were rejected by the verifier`);
  console.log(`(loads with a perf_event_array sized to the CPUs, as libbpf and tsbpf's loader do: ${fixed.perfEventArray}; with maps sized as the tools' user space sizes them: ${fixed.userSpaceSized})`);
  for (const [title, list] of [['run failed', summary.runFailed], ['load refused (not by the verifier)', summary.loadFailed], ['rejected by the verifier', summary.rejected], ['object not opened', summary.openFailed]]) {
    if (list.length === 0) continue;
    console.log(`\n${title}:`);
    for (const [c, n] of list) console.log(`  ${String(n).padStart(4)}  ${c}`);
  }
}
