/**
 * `map.pin(path)` (issue 4, part 4): a map pinned by one process is reopened
 * by a later process with every entry intact. The method is installed by the
 * Node entry; the browser-safe core refuses it with a typed error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Runtime, TsbpfError } from '../src/index.js';
import { BpfMap } from '../src/maps/map.js';
import { ROOT } from './paths.js';

test('map.pin(path): a later process reopens the map with every entry', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-pin-'));
  const rt = new Runtime();
  try {
    const m = rt.createMap({ name: 'counts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 64, flags: 0, pinning: 'none' });
    for (let k = 0; k < 20; k++) {
      const v = new Uint8Array(8);
      new DataView(v.buffer).setBigUint64(0, BigInt(k) * 1000n + 7n, true);
      m.set(new Uint8Array([k, 0, 0, 0]), v);
    }
    const path = join(dir, 'counts.pin');
    m.pin(path);
    const entry = pathToFileURL(resolve(ROOT, 'dist/src/index.js')).href;
    const script = `
      const { Runtime, openPinnedMapFile } = await import(${JSON.stringify(entry)});
      const m = openPinnedMapFile(new Runtime(), ${JSON.stringify(path)});
      const out = [];
      for (const [k, v] of m.entries()) out.push([k[0], new DataView(v.buffer, v.byteOffset).getBigUint64(0, true).toString()]);
      out.sort((a, b) => a[0] - b[0]);
      console.log(JSON.stringify({ name: m.name, type: m.type, maxEntries: m.maxEntries, out }));`;
    const got = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as {
      name: string; type: string; maxEntries: number; out: Array<[number, string]>;
    };
    assert.equal(got.name, 'counts');
    assert.equal(got.type, 'hash');
    assert.equal(got.maxEntries, 64);
    assert.deepEqual(got.out, Array.from({ length: 20 }, (_, k) => [k, String(k * 1000 + 7)]));
  } finally {
    rt.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without the Node entry, map.pin is a typed EOPNOTSUPP', () => {
  const rt = new Runtime();
  const saved = BpfMap.pinWriter;
  try {
    BpfMap.pinWriter = undefined;
    const m = rt.createMap({ name: 'a', type: 'array', keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, pinning: 'none' });
    assert.throws(() => m.pin('/nonexistent/x'), (e: unknown) => e instanceof TsbpfError && e.errno === 'EOPNOTSUPP');
  } finally {
    BpfMap.pinWriter = saved;
    rt.close();
  }
});
