/**
 * Prometheus metrics from eBPF maps, as ebpf_exporter makes them: a map is
 * a counter or gauge whose labels are its key decoded by BTF (a struct's
 * members, one label each; an integer under the name the config gives),
 * whose value is the entry's integer (summed over CPUs for per-CPU maps);
 * or a histogram whose key is a log2 bucket index (ebpf_exporter's exp2
 * buckets: bucket i counts values up to 2^i, times `bucket_multiplier`),
 * with the other members of a struct key as labels. Program statistics
 * (run_cnt and run_time_ns, counted while BPF_ENABLE_STATS is held) are
 * counters per program. The metrics are prom-client metric objects: the
 * registry renders the exposition format.
 */
import { TsbpfError } from '../errors.js';
import type { Btf } from '../object/btf/index.js';
import { formatValue, Hex, Plain, type Formatted } from '../object/btf/codec.js';
import type { MapApi } from '../runtime/api.js';

export interface MetricConfig {
  name: string;
  help?: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** the map's name in the object */
  map: string;
  /** the label an integer key (or a histogram's non-bucket integer) is shown under; default "key" */
  label?: string;
  /** histogram: the bucket's upper bound is 2^i times this (e.g. 1e-9 for nanoseconds to seconds) */
  bucket_multiplier?: number;
  /** histogram: the member of a struct key that holds the bucket index; default "bucket" */
  bucket_label?: string;
}

export interface ExportConfig {
  /** the object file to load (relative to the config file) */
  object: string;
  /** "kernel" (default) or "user" (tsbpf's runtime) */
  backend?: 'kernel' | 'user';
  /** attach every program where its section says (kernel; default true) */
  attach?: boolean;
  /** run counts and run time per program (kernel) */
  program_stats?: boolean;
  metrics: MetricConfig[];
}

/** The shape prom-client's Registry renders (what its own metrics' get() returns). */
export interface PromMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }> }>;
}

/** Check a parsed config, with errors that name the field. */
export function checkConfig(c: unknown): ExportConfig {
  const bad = (why: string): never => {
    throw new TsbpfError('EINVAL', `export config: ${why}`);
  };
  if (!c || typeof c !== 'object') bad('not a JSON object');
  const o = c as Record<string, unknown>;
  if (typeof o.object !== 'string') bad('"object" (the object file) is missing');
  if (o.backend !== undefined && o.backend !== 'kernel' && o.backend !== 'user') bad('"backend" must be "kernel" or "user"');
  if (!Array.isArray(o.metrics)) bad('"metrics" must be an array');
  for (const [i, m] of (o.metrics as unknown[]).entries()) {
    const x = m as Record<string, unknown>;
    if (!x || typeof x.name !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(x.name)) bad(`metrics[${i}].name must be a Prometheus metric name`);
    if (x.type !== 'counter' && x.type !== 'gauge' && x.type !== 'histogram') bad(`metrics[${i}].type must be counter, gauge or histogram`);
    if (typeof x.map !== 'string') bad(`metrics[${i}].map (a map's name) is missing`);
  }
  return c as ExportConfig;
}

/** An entry's integer value: little-endian, up to 8 bytes; per-CPU values summed. */
function valueOf(v: unknown): number {
  const one = (b: Uint8Array): number => {
    let n = 0n;
    for (let i = Math.min(b.length, 8) - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
    return Number(n);
  };
  return Array.isArray(v) ? (v as Uint8Array[]).reduce((s, b) => s + one(b), 0) : one(v as Uint8Array);
}

const text = (f: Formatted): string => (f instanceof Hex || f instanceof Plain ? f.text : typeof f === 'object' && f !== null ? JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) : String(f));

/** A key as labels: by BTF when the map has a key type, else its integer (or hex bytes). */
function keyLabels(map: MapApi<unknown>, btf: Btf | undefined, key: Uint8Array, label = 'key'): Record<string, string> {
  if (btf && map.spec.btfKeyTypeId) {
    const f = formatValue(btf, map.spec.btfKeyTypeId, key);
    if (f && typeof f === 'object' && !Array.isArray(f) && !(f instanceof Hex) && !(f instanceof Plain)) return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, text(v)]));
    return { [label]: text(f) };
  }
  return { [label]: key.length <= 8 ? String(valueOf(key)) : Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('') };
}

/** One metric over one map. */
export function mapMetric(cfg: MetricConfig, map: MapApi<unknown>, btf: Btf | undefined): PromMetric {
  const help = cfg.help ?? `map ${cfg.map}`;
  const base = { name: cfg.name, help, type: cfg.type, aggregator: 'sum' as const };
  if (cfg.type !== 'histogram') {
    return { ...base, get: async () => ({ ...base, values: [...map.entries()].map(([k, v]) => ({ labels: keyLabels(map, btf, k, cfg.label), value: valueOf(v) })) }) };
  }
  const bucketLabel = cfg.bucket_label ?? 'bucket';
  const mult = cfg.bucket_multiplier ?? 1;
  return {
    ...base,
    get: async () => {
      // group the buckets by the key's other labels
      const series = new Map<string, { labels: Record<string, string>; counts: Map<number, number> }>();
      for (const [k, v] of map.entries()) {
        const all = keyLabels(map, btf, k, bucketLabel);
        const bucket = Number(all[bucketLabel]);
        if (!Number.isInteger(bucket) || bucket < 0 || bucket > 1023) continue;
        delete all[bucketLabel];
        const id = JSON.stringify(all);
        const s = series.get(id) ?? { labels: all, counts: new Map() };
        s.counts.set(bucket, (s.counts.get(bucket) ?? 0) + valueOf(v));
        series.set(id, s);
      }
      const values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }> = [];
      for (const s of series.values()) {
        const top = Math.max(...s.counts.keys());
        let cum = 0;
        let sum = 0;
        for (let i = 0; i <= top; i++) {
          const n = s.counts.get(i) ?? 0;
          cum += n;
          // the program keeps no sum: each observation counted at its bucket's upper bound (an upper estimate)
          sum += n * 2 ** i * mult;
          values.push({ metricName: `${cfg.name}_bucket`, labels: { ...s.labels, le: 2 ** i * mult }, value: cum });
        }
        values.push({ metricName: `${cfg.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: cum });
        values.push({ metricName: `${cfg.name}_sum`, labels: s.labels, value: sum });
        values.push({ metricName: `${cfg.name}_count`, labels: s.labels, value: cum });
      }
      return { ...base, values };
    },
  };
}

/** run_cnt and run_time_ns per program (BPF_OBJ_GET_INFO_BY_FD), as two counters. */
export function programMetrics(progs: Array<{ name: string; info(): { runCnt: bigint; runTimeNs: bigint } }>): PromMetric[] {
  const counter = (name: string, help: string, f: (i: { runCnt: bigint; runTimeNs: bigint }) => number): PromMetric => {
    const base = { name, help, type: 'counter' as const, aggregator: 'sum' as const };
    return { ...base, get: async () => ({ ...base, values: progs.map((p) => ({ labels: { program: p.name }, value: f(p.info()) })) }) };
  };
  return [
    counter('ebpf_program_runs_total', 'times the program ran (run_cnt; counted while BPF_ENABLE_STATS is held)', (i) => Number(i.runCnt)),
    counter('ebpf_program_run_seconds_total', 'time the program ran (run_time_ns)', (i) => Number(i.runTimeNs) / 1e9),
  ];
}
