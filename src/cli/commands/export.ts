/**
 * `tsbpf export CONFIG [--port N] [--host H] [--once]`: Prometheus metrics
 * from the maps of an object loaded into the kernel (or tsbpf's runtime),
 * as ebpf_exporter serves them (metrics.ts says how maps become metrics).
 * The object is loaded and its programs attached where their sections say;
 * GET /metrics answers in the exposition format rendered by prom-client
 * (an optional dependency, loaded only here).
 */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliUsageError, parse, type OptionSpec } from '../args.js';
import { TsbpfError } from '../../errors.js';
import { loadObjectFileSync } from '../../object/file.js';
import { Runtime } from '../../runtime/runtime.js';
import type { CollectionApi, RuntimeApi } from '../../runtime/api.js';
import { checkConfig, mapMetric, programMetrics, type PromMetric } from '../metrics.js';

export const options: OptionSpec = { port: { type: 'string' }, host: { type: 'string' }, once: { type: 'boolean' } };

export const usage = `Usage: tsbpf export CONFIG [--port N] [--host H] [--once]
  Serves the maps named in CONFIG (JSON; docs/kernel.md) as Prometheus metrics at
  http://H:N/metrics (default 127.0.0.1:9435, ebpf_exporter's port; --port 0 picks one):
  counters and gauges labelled by the key's BTF, histograms from log2 buckets, and
  run counts and run time per program. The object in CONFIG is loaded into the kernel
  (root or CAP_BPF) or tsbpf's runtime ("backend": "user"), its programs attached.
  --once   print the metrics once to stdout and exit
  Needs the prom-client package (npm i prom-client).
`;

interface Registry {
  registerMetric(m: PromMetric): void;
  metrics(): Promise<string>;
  contentType: string;
}

async function promClient(): Promise<{ Registry: new () => Registry }> {
  const name = 'prom-client';
  try {
    return (await import(name)) as { Registry: new () => Registry };
  } catch (e) {
    throw new TsbpfError('ENOSYS', `tsbpf export needs the prom-client package (npm i prom-client): ${(e as Error).message}`, { cause: e });
  }
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  if (positionals.length !== 1) throw new CliUsageError('expected CONFIG');
  const port = values.port === undefined ? 9435 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliUsageError(`invalid port '${String(values.port)}'`);
  const path = positionals[0]!;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TsbpfError(e instanceof SyntaxError ? 'EINVAL' : 'ENOENT', `export config ${path}: ${(e as Error).message}`);
  }
  const cfg = checkConfig(raw);
  const { Registry } = await promClient();
  const spec = loadObjectFileSync(resolve(dirname(path), cfg.object));
  const kernel = cfg.backend !== 'user';
  const k = kernel ? await import('../../kernel/index.js') : undefined;
  const rt: RuntimeApi = k ? new k.KernelRuntime() : new Runtime();
  const held: Array<{ close(): void }> = [];
  try {
    const coll: CollectionApi = await rt.load(spec);
    const reg = new Registry();
    for (const m of cfg.metrics) reg.registerMetric(mapMetric(m, coll.map(m.map), spec.btf));
    if (k && coll instanceof k.KernelCollection) {
      if (cfg.attach !== false)
        for (const p of coll.programs.values()) {
          const link = p.attach();
          held.push({ close: () => link.detach() });
        }
      if (cfg.program_stats) {
        held.push(await (rt as InstanceType<typeof k.KernelRuntime>).enableStats());
        for (const m of programMetrics([...coll.programs.values()])) reg.registerMetric(m);
      }
    }
    if (values.once) {
      process.stdout.write(await reg.metrics());
      return 0;
    }
    return await serve(reg, typeof values.host === 'string' ? values.host : '127.0.0.1', port);
  } finally {
    for (const h of held.reverse()) h.close();
    rt.close();
  }
}

/** Serve GET /metrics until SIGINT or SIGTERM. */
function serve(reg: Registry, host: string, port: number): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404).end('see /metrics\n');
        return;
      }
      reg.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': reg.contentType }).end(body),
        (e: unknown) => res.writeHead(500).end(`${(e as Error).message}\n`),
      );
    });
    server.on('error', (e) => fail(new TsbpfError('EINVAL', `cannot listen on ${host}:${port}: ${e.message}`)));
    server.listen(port, host, () => {
      const a = server.address();
      process.stderr.write(`serving metrics at http://${host}:${typeof a === 'object' && a ? a.port : port}/metrics\n`);
    });
    const stop = (): void => {
      server.close(() => done(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
