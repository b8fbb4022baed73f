/**
 * `tsbpf playground [--port N] [--host ADDR] [--dir DIR]`: serve the browser
 * playground (playground/, built by `npm run build:playground` into
 * dist/playground-site) from a tiny static server. The page runs entirely
 * in the browser; this server only hands out its files: GET and HEAD of
 * files inside the site folder, nothing else (no listing, no writes).
 */
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CliUsageError, parse } from '../args.js';
import { packageRoot } from '../paths.js';

export const usage = `Usage: tsbpf playground [--port N] [--host ADDR]
  Serve the browser playground on http://ADDR:N/ (default 127.0.0.1:8080; --port 0 picks a free port).
`;

/** The repository (or installed package) root. */
const ROOT = packageRoot();
export const SITE_DIR = join(ROOT, 'dist', 'playground-site');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.o': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** Serve the files of `dir` on `host:port`; resolves once listening. */
export async function serveStatic(dir: string, port: number, host = '127.0.0.1'): Promise<{ server: Server; url: string }> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      let path: string;
      try {
        path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      } catch {
        res.writeHead(400).end('bad path');
        return;
      }
      if (path.endsWith('/')) path += 'index.html';
      const file = normalize(join(root, path));
      const type = TYPES[extname(file)];
      if (!file.startsWith(root + sep) || !type) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      try {
        if (!(await stat(file)).isFile()) throw new Error('not a file');
        const body = await readFile(file);
        res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      }
    })();
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  const addr = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}/` };
}

/** Build the site when this is a checkout with the bundler installed; else say what to run. */
function ensureBuilt(): string | undefined {
  if (existsSync(join(SITE_DIR, 'index.html'))) return undefined;
  if (!existsSync(join(ROOT, 'playground', 'vite.config.ts')) || !existsSync(join(ROOT, 'node_modules', 'vite'))) {
    return `the playground is not built (${SITE_DIR} is missing): run \`npm ci && npm run build:playground\` in a tsbpf checkout`;
  }
  process.stderr.write('building the playground (npm run build:playground)...\n');
  const r = spawnSync('npm', ['run', '--silent', 'build:playground'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0 || !existsSync(join(SITE_DIR, 'index.html'))) return 'building the playground failed: run `npm run build:playground` to see why';
  return undefined;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliUsageError(`--port ${String(values.port)} is not a port number (0..65535)`);
  const problem = ensureBuilt();
  if (problem) {
    process.stderr.write(`tsbpf playground: ${problem}\n`);
    return 1;
  }
  let served: Awaited<ReturnType<typeof serveStatic>>;
  try {
    served = await serveStatic(SITE_DIR, port, typeof values.host === 'string' ? values.host : '127.0.0.1');
  } catch (e) {
    process.stderr.write(`tsbpf playground: cannot listen on port ${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`tsbpf playground: ${served.url} (Ctrl-C stops it)\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      served.server.close();
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
