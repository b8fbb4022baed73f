/**
 * Which helper each program type may call, as the running kernel answers:
 * for every helper id Linux defines and every program type that loads
 * without an attach target, a one-call program (`call N; r0 = 0; exit`) is
 * loaded through kloader.c. check_helper_call asks the program type's
 * get_func_proto first, so "program of this type cannot use helper" (or
 * check_get_func_ip's "not supported for program type") means the helper is
 * not available; any other verdict means it is. Socket filters and cgroup
 * skb programs are also loaded unprivileged (bpf_base_func_proto's
 * capability checks). test/uapi-helpers.test.ts compares the helper catalog
 * (src/uapi/helpers.ts) with the recorded table.
 *
 *   node dist/test/verifier-corpus/helper-availability.js --kloader PATH (--write | --check)
 *
 * Run through scripts/record-verifier-verdicts.sh, which builds kloader and
 * opens unprivileged loads for the run; needs root.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../paths.js';
import { ProgType, type ProgTypeName } from '../../src/object/spec.js';
import { BPF_FUNC, HELPER_MAX_ID } from '../../src/uapi/helper-ids.js';

export const AVAILABILITY_FILE = join(ROOT, 'test/verifier-corpus/helper-availability.json');

/** The program types probed, with the expected attach type each loads with (kernel number, tsbpf name). */
export const PROBED: ReadonlyArray<{ type: ProgTypeName; attach: number; attachName?: string; flags?: number }> = [
  { type: 'socket_filter', attach: 0 }, { type: 'kprobe', attach: 0 }, { type: 'sched_cls', attach: 0 }, { type: 'sched_act', attach: 0 },
  { type: 'tracepoint', attach: 0 }, { type: 'xdp', attach: 0 }, { type: 'perf_event', attach: 0 }, { type: 'cgroup_skb', attach: 0 },
  { type: 'cgroup_sock', attach: 0, attachName: 'cgroup_inet_sock_create' }, { type: 'lwt_in', attach: 0 }, { type: 'lwt_out', attach: 0 }, { type: 'lwt_xmit', attach: 0 },
  { type: 'sock_ops', attach: 0 }, { type: 'sk_skb', attach: 0 }, { type: 'cgroup_device', attach: 0 }, { type: 'sk_msg', attach: 0 },
  { type: 'raw_tracepoint', attach: 0 }, { type: 'raw_tracepoint_writable', attach: 0 }, { type: 'cgroup_sock_addr', attach: 10, attachName: 'cgroup_inet4_connect' },
  { type: 'lwt_seg6local', attach: 0 }, { type: 'sk_reuseport', attach: 0 }, { type: 'flow_dissector', attach: 0 },
  { type: 'cgroup_sysctl', attach: 0 }, { type: 'cgroup_sockopt', attach: 22, attachName: 'cgroup_setsockopt' },
  { type: 'sk_lookup', attach: 36, attachName: 'sk_lookup' },
  // syscall programs must be sleepable (BPF_F_SLEEPABLE)
  { type: 'syscall', attach: 0, flags: 16 },
];
/** The program types also probed without CAP_BPF / CAP_PERFMON. */
export const PROBED_UNPRIV: readonly ProgTypeName[] = ['socket_filter', 'cgroup_skb'];

export interface AvailabilityFile {
  kernel: string;
  /** per program type, the helper ids its get_func_proto offers root */
  root: Record<string, number[]>;
  /** per program type, the helper ids offered to an unprivileged loader (when the kernel allowed unprivileged loads) */
  unpriv: Record<string, number[]>;
}

const UNAVAILABLE = /cannot use helper|not supported for program type|unknown func/;

function probe(kloader: string): AvailabilityFile {
  let input = '';
  const line = (name: string, type: ProgTypeName, attach: number, flags: number, unpriv: boolean, id: number): string =>
    `case ${name}\nprog ${ProgType[type]} ${attach} ${flags} ${unpriv ? 1 : 0}\nlicense GPL\ninsn 133 0 0 0 ${id}\ninsn 183 0 0 0 0\ninsn 149 0 0 0 0\nend\n`;
  for (let id = 1; id < HELPER_MAX_ID; id++) {
    for (const p of PROBED) input += line(`root:${p.type}:${id}`, p.type, p.attach, p.flags ?? 0, false, id);
    for (const t of PROBED_UNPRIV) input += line(`unpriv:${t}:${id}`, t, 0, 0, true, id);
  }
  const r = spawnSync(kloader, [], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`kloader exited with ${r.status}: ${r.stderr}`);
  const out: AvailabilityFile = { kernel: release(), root: {}, unpriv: {} };
  for (const l of r.stdout.split('\n')) {
    if (!l.startsWith('RESULT ')) continue;
    const [name, verdict, errno, message] = l.slice(7).split('\t') as [string, string, string, string];
    const [mode, type, id] = name.split(':') as ['root' | 'unpriv', string, string];
    if (verdict === 'error') throw new Error(`kloader could not run ${name}: ${errno} ${message}`);
    // unprivileged loads refused before verification (kernel.unprivileged_bpf_disabled): nothing to record
    if (mode === 'unpriv' && errno === 'EPERM') continue;
    const table = out[mode];
    table[type] ??= [];
    if (!UNAVAILABLE.test(message)) table[type]!.push(Number(id));
  }
  return out;
}

export function readAvailability(): AvailabilityFile {
  return JSON.parse(readFileSync(AVAILABILITY_FILE, 'utf8')) as AvailabilityFile;
}

function main(argv: string[]): number {
  const kloader = argv[argv.indexOf('--kloader') + 1];
  if (!argv.includes('--kloader') || !kloader) throw new Error('usage: helper-availability.js --kloader PATH (--write | --check)');
  const live = probe(kloader);
  if (argv.includes('--write')) {
    writeFileSync(AVAILABILITY_FILE, JSON.stringify(live, null, 1) + '\n');
    console.log(`helper availability: ${Object.keys(live.root).length} program types x ${Object.keys(BPF_FUNC).length - 1} helpers recorded (kernel ${live.kernel})`);
    return 0;
  }
  const rec = readAvailability();
  let diffs = 0;
  for (const mode of ['root', 'unpriv'] as const) {
    for (const [type, ids] of Object.entries(live[mode])) {
      const want = new Set(rec[mode][type] ?? []);
      const got = new Set(ids);
      for (let id = 1; id < HELPER_MAX_ID; id++) {
        if (want.has(id) !== got.has(id)) {
          diffs++;
          console.log(`DIFF ${mode} ${type} helper #${id}: recorded ${want.has(id) ? 'available' : 'not available'}, kernel ${got.has(id) ? 'available' : 'not available'}`);
        }
      }
    }
  }
  console.log(`helper availability: ${diffs} difference(s) from the recorded table (kernel ${live.kernel}, recorded on ${rec.kernel})`);
  return diffs ? 1 : 0;
}

if (process.argv[1]?.endsWith('helper-availability.js')) process.exitCode = main(process.argv.slice(2));
