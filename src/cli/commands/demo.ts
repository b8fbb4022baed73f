/**
 * `tsbpf demo [--requests N]`: an HTTP server on 127.0.0.1 (an ephemeral
 * port) with the bundled programs of examples/http_latency.o attached to the
 * diagnostics_channel tracepoints — a request-latency log2 histogram, a
 * per-route counter and a ring buffer of slow requests (read by an async
 * iterator and printed as they come). The demo drives its own traffic (a
 * fixed mix of routes, a few deliberately slow) through loopback, then
 * prints the maps as bpftrace prints them and exits 0. Then, as root, its
 * kernel mode (../demo-kernel.ts) traces the machine with two bundled kernel
 * examples for --kernel-seconds (default 2; 0 leaves it out); elsewhere it
 * says why it skips that part.
 */
import http from 'node:http';
import { resolve } from 'node:path';
import { CliUsageError, parse, type OptionSpec } from '../args.js';
import { Runtime } from '../../runtime/runtime.js';
import { loadCollectionFile } from '../../runtime/node.js';
import { RingBufReader } from '../../maps/ringbuf-reader.js';
import { sectionHook } from '../../hooks/section.js';
import { formatCounts, formatLog2Hist, histSlots } from '../../hooks/print.js';
import type { Link } from '../../hooks/link.js';
import { kernelMode } from '../demo-kernel.js';
import { packageRoot } from '../paths.js';

export const options: OptionSpec = { requests: { type: 'string', short: 'n' }, object: { type: 'string' }, 'kernel-seconds': { type: 'string' } };

export const usage = `Usage: tsbpf demo [-n|--requests N] [--object FILE] [--kernel-seconds S]
  Start an HTTP server with examples/http_latency.o attached (latency histogram,
  per-route counter, ring buffer of slow requests), send it N requests
  (default 40, a few of them slow), and print the maps as bpftrace does.
  Then, as root, load examples/kernel/execsnoop.o and syscount.o into the
  running kernel and trace the machine for S seconds (default 2, 0: do not);
  elsewhere say why that part is skipped.
  --object FILE   attach the programs of another object instead
`;

/** How slow the slow route is (ms): above the program's slow_us threshold of 20 ms. */
const SLOW_MS = 30;

/** The route mix, cycled: 1 request in 10 is slow. */
const ROUTES = ['/api/users', '/api/orders', '/api/users', '/health', '/api/users', '/api/orders?page=2', '/api/users', '/api/orders', '/api/users', '/api/report'];

/** examples/ of this package. */
function examplesDir(): string {
  return resolve(packageRoot(), 'examples');
}

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, options);
  const total = values.requests === undefined ? 40 : Number(values.requests);
  if (!Number.isInteger(total) || total < 1 || total > 100000) throw new CliUsageError(`--requests wants an integer from 1 to 100000, not ${String(values.requests)}`);
  const kernelSeconds = values['kernel-seconds'] === undefined ? 2 : Number(values['kernel-seconds']);
  if (!Number.isInteger(kernelSeconds) || kernelSeconds < 0 || kernelSeconds > 3600) throw new CliUsageError(`--kernel-seconds wants an integer from 0 to 3600, not ${String(values['kernel-seconds'])}`);
  const objPath = (values.object as string | undefined) ?? resolve(examplesDir(), 'http_latency.o');

  const rt = new Runtime();
  const coll = await loadCollectionFile(objPath, rt);
  const links: Link[] = [];
  for (const p of coll.programs.values()) links.push(p.attach(sectionHook(p)));
  const out = process.stdout;
  out.write(`Attaching ${links.length} programs from ${objPath.split('/').slice(-2).join('/')}...\n`);
  for (const l of links) out.write(`  ${l.program.name} -> ${l.hook.name}\n`);

  // The slow-request ring buffer, consumed by an async iterator while the traffic runs.
  const reader = new RingBufReader(coll.map('slow', 'ringbuf'));
  let slowSeen = 0;
  const show = (rec: Uint8Array): void => {
    const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    const us = v.getBigUint64(0, true);
    const status = v.getUint16(8, true);
    const method = cstr(rec.subarray(16, 24));
    const path = cstr(rec.subarray(24, 88));
    slowSeen++;
    out.write(`slow request: ${method} ${path} ${status} ${(Number(us) / 1000).toFixed(1)} ms\n`);
  };
  const consumer = (async () => {
    for await (const rec of reader) show(rec);
  })();

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (): void => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path, ok: true }));
    };
    if (path === '/api/report') setTimeout(reply, SLOW_MS);
    else if (path === '/health') {
      res.statusCode = 204;
      res.end();
    } else reply();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  out.write(`HTTP server on http://127.0.0.1:${port}/, sending ${total} requests...\n\n`);

  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const path = ROUTES[next++ % ROUTES.length]!;
        await get(agent, port, path);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  } finally {
    agent.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
  // Let the reader drain what the last responses submitted, then stop it.
  await new Promise((r) => setImmediate(r));
  reader.consume(show);
  reader.close();
  await consumer;
  for (const l of links) l.detach();

  out.write(`\n${slowSeen} slow requests (>= 20 ms) read from the ring buffer; ${reader.lost} lost\n\n`);
  out.write(formatLog2Hist('latency_us', histSlots(coll.map('latency_us'))));
  out.write(formatCounts('requests', coll.map('requests')));
  coll.close();
  rt.close();
  if (kernelSeconds > 0) await kernelMode(examplesDir(), kernelSeconds, out);
  return 0;
}

function cstr(b: Uint8Array): string {
  const n = b.indexOf(0);
  return new TextDecoder().decode(n < 0 ? b : b.subarray(0, n));
}

function get(agent: http.Agent, port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
