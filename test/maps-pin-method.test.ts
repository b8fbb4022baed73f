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
import { BpfMap, createMap, type PinStore } from '../src/maps/index.js';
import { Runtime as CoreRuntime } from '../src/runtime/runtime.js';
import { loadObjectFile } from '../src/object/file.js';
import { ROOT, FIXTURES } from './paths.js';

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

test('a runtime without a pin store refuses map.pin and openPinnedMap with a typed EOPNOTSUPP', () => {
  const rt = new CoreRuntime();
  try {
    const m = rt.createMap({ name: 'a', type: 'array', keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, pinning: 'none' });
    assert.throws(() => m.pin('/nonexistent/x'), (e: unknown) => e instanceof TsbpfError && e.errno === 'EOPNOTSUPP');
    assert.throws(() => rt.openPinnedMap('/nonexistent/x'), (e: unknown) => e instanceof TsbpfError && e.errno === 'EOPNOTSUPP');
  } finally {
    rt.close();
  }
});

test('pins go through the runtime\'s PinStore: map.pin, openPinnedMap and by-name pins of a load', async () => {
  const pinned = new Map<string, BpfMap<unknown>>();
  const calls: string[] = [];
  const store: PinStore = {
    pin: (map, path) => {
      calls.push(`pin ${path}`);
      pinned.set(path, map);
    },
    open: (path, ctx) => {
      calls.push(`open ${path}`);
      const src = pinned.get(path);
      if (!src) throw new TsbpfError('ENOENT', `nothing pinned at ${path}`);
      const m = createMap(src.spec, ctx);
      for (const [k, v] of src.entries()) (m as BpfMap<Uint8Array>).set(k, v as Uint8Array);
      return m;
    },
  };
  const rt = new CoreRuntime({ pins: store, numCpus: 2 });
  try {
    const m = rt.createMap({ name: 'h', type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, flags: 0, pinning: 'none' });
    m.set(1, 11);
    m.pin('mem/h');
    const back = rt.openPinnedMap('mem/h');
    assert.notEqual(back.id, m.id);
    assert.deepEqual([...(back.get(1) as Uint8Array)], [11, 0, 0, 0]);
    assert.throws(() => rt.openPinnedMap('mem/none'), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOENT');
    // LIBBPF_PIN_BY_NAME: the first load pins under pinPath, the second reuses the pin.
    const spec = await loadObjectFile(join(FIXTURES, 'percpu.o'));
    const a = await rt.load(spec, { pinPath: 'root' });
    const b = await rt.load(spec, { pinPath: 'root' });
    const byName = [...spec.maps.values()].filter((s) => s.pinning === 'by_name').map((s) => s.name);
    assert.ok(byName.length > 0, 'the fixture pins a map by name');
    for (const n of byName) {
      assert.ok(calls.includes(`pin root/${n}`), calls.join(', '));
      assert.ok(calls.includes(`open root/${n}`), calls.join(', '));
    }
    a.close();
    b.close();
  } finally {
    rt.close();
  }
});
