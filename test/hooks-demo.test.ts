import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BIN } from './paths.js';

const run = promisify(execFile);

test('tsbpf demo: a bpftrace-style histogram counting every request, per-route counts, slow requests from the ring buffer', async () => {
  const N = 30;
  const { stdout } = await run(process.execPath, [BIN, 'demo', '--requests', String(N), '--kernel-seconds', '0'], { timeout: 60000 });
  const lines = stdout.split('\n');
  const h = lines.indexOf('@latency_us:');
  assert.ok(h >= 0, stdout);
  let total = 0;
  let i = h + 1;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const m = /^(\[[^\]]*[\])])\s+(\d+) \|(@*) *\|$/.exec(lines[i]!);
    assert.ok(m, `histogram line: ${lines[i]}`);
    assert.equal(lines[i]!.length, 16 + 8 + 2 + 52 + 1, `bpftrace's column widths: ${lines[i]}`);
    total += Number(m[2]);
  }
  assert.equal(total, N);
  const routes = new Map(lines.filter((l) => l.startsWith('@requests[')).map((l) => {
    const m = /^@requests\[(.*)\]: (\d+)$/.exec(l)!;
    return [m[1]!, Number(m[2])] as const;
  }));
  assert.equal([...routes.values()].reduce((a, b) => a + b, 0), N);
  // The route mix cycles 10 paths: 5 x /api/users, 3 x /api/orders (one with a query string), 1 x /health, 1 x /api/report.
  assert.equal(routes.get('/api/users'), 15);
  assert.equal(routes.get('/api/orders'), 9);
  assert.equal(routes.get('/api/report'), 3);
  const slow = lines.filter((l) => l.startsWith('slow request: GET /api/report 200 '));
  assert.equal(slow.length, 3, stdout);
});
