/**
 * `tsbpf export`: maps as Prometheus metrics (src/cli/metrics.ts) and the
 * command serving them over HTTP. The histogram and counter shapes are
 * checked on maps of known contents; the server is scraped over HTTP with
 * syscount.o loaded into the kernel (root and prom-client needed; skips
 * with the reason elsewhere).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { checkConfig, mapMetric } from '../src/cli/metrics.js';
import type { MapApi } from '../src/runtime/api.js';
import type { TsbpfError } from '../src/errors.js';
import { kernelSkip } from './kernel-support.js';
import { BIN, ROOT } from './paths.js';

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);
/** A map of known entries, without BTF (keys are integers). */
const fakeMap = (entries: Array<[Uint8Array, unknown]>): MapApi<unknown> => ({ spec: {}, entries: () => entries.values() }) as unknown as MapApi<unknown>;

test('export: a log2 histogram map becomes cumulative buckets, a count and an upper-bound sum', async () => {
  const m = mapMetric({ name: 'lat_seconds', type: 'histogram', map: 'h', bucket_multiplier: 0.5 }, fakeMap([[u32(0), u64(3)], [u32(2), u64(4)], [u32(1), [u64(1), u64(1)]]]), undefined);
  const got = await m.get();
  assert.equal(got.type, 'histogram');
  const rows = got.values.map((v) => `${v.metricName}${JSON.stringify(v.labels)} ${v.value}`);
  assert.deepEqual(rows, [
    'lat_seconds_bucket{"le":0.5} 3',
    'lat_seconds_bucket{"le":1} 5',
    'lat_seconds_bucket{"le":2} 9',
    'lat_seconds_bucket{"le":"+Inf"} 9',
    `lat_seconds_sum{} ${3 * 0.5 + 2 * 1 + 4 * 2}`,
    'lat_seconds_count{} 9',
  ]);
});

test('export: a counter map is labelled by its key; config errors name the field', async () => {
  const c = await mapMetric({ name: 'calls_total', type: 'counter', map: 'c', label: 'pid' }, fakeMap([[u32(42), u64(7)]]), undefined).get();
  assert.deepEqual(c.values, [{ labels: { pid: '42' }, value: 7 }]);
  assert.throws(() => checkConfig({ object: 'x.o', metrics: [{ name: 'bad name', type: 'counter', map: 'm' }] }), (e: TsbpfError) => e.errno === 'EINVAL' && /metrics\[0\]\.name/.test(e.message));
  assert.throws(() => checkConfig({ metrics: [] }), /"object"/);
});

test('export: tsbpf export serves kernel maps and program stats over HTTP', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  try {
    await import('prom-client' as string);
  } catch {
    return t.skip('the prom-client package is not installed (npm i prom-client)');
  }
  const child = spawn(process.execPath, [BIN, 'export', join(ROOT, 'examples/kernel/syscount.export.json'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /serving metrics at (\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`export exited (${code}): ${err}`)));
    });
    // the scrapes themselves are system calls of this process: its pid is counted
    let body = '';
    for (let i = 0; i < 50 && !body.includes(`ebpf_syscalls_total{pid="${process.pid}"}`); i++) body = await (await fetch(url)).text();
    const mine = new RegExp(`^ebpf_syscalls_total\\{pid="${process.pid}"\\} (\\d+)$`, 'm').exec(body);
    assert.ok(mine && Number(mine[1]) > 0, body.slice(0, 500));
    assert.match(body, /^# TYPE ebpf_syscalls_total counter$/m);
    const runs = /^ebpf_program_runs_total\{program="syscount"\} (\d+)$/m.exec(body);
    assert.ok(runs && Number(runs[1]) > 0, 'run_cnt counted while the exporter holds BPF_ENABLE_STATS');
    assert.match(body, /^ebpf_program_run_seconds_total\{program="syscount"\} [0-9.e-]+$/m);
    assert.equal((await fetch(url.replace('/metrics', '/other'))).status, 404);
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
  assert.equal(child.exitCode, 0);
});
