/** LazyMap (src/lazy-map.ts): built once, on the first read, and then the map it built. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LazyMap } from '../src/lazy-map.js';
import { HELPERS } from '../src/uapi/helpers.js';
import { BPF_FUNC } from '../src/uapi/helper-ids.js';
import { ALL_HELPERS } from '../src/helpers/index.js';

test('a LazyMap builds its map on the first read, once, and answers as that map', () => {
  let builds = 0;
  const m = new LazyMap(() => {
    builds++;
    return new Map([
      [1, 'a'],
      [2, 'b'],
    ]);
  });
  assert.equal(builds, 0);
  assert.equal(m.isBuilt, false);
  assert.equal(m.get(2), 'b');
  assert.equal(m.isBuilt, true);
  assert.equal(m.size, 2);
  assert.equal(m.has(3), false);
  assert.deepEqual([...m], [[1, 'a'], [2, 'b']]);
  assert.deepEqual([...m.keys()], [1, 2]);
  assert.deepEqual([...m.values()], ['a', 'b']);
  assert.deepEqual([...m.entries()], [[1, 'a'], [2, 'b']]);
  const seen: string[] = [];
  m.forEach(function (this: unknown, v, k, map) {
    assert.equal(map, m);
    assert.equal(this, seen);
    seen.push(`${k}=${v}`);
  }, seen);
  assert.deepEqual(seen, ['1=a', '2=b']);
  assert.equal(builds, 1);
});

test("the registry's helpers have the catalog's names and prototypes (read lazily from it)", () => {
  for (const def of ALL_HELPERS) {
    const info = HELPERS.get(def.id);
    assert.ok(info, `helper #${def.id}`);
    assert.equal(def.name, info.name);
    assert.equal(def.proto, info.proto);
    assert.equal(def.proto, info.proto, 'the second read, from the property the first one set');
  }
  // every id Linux defines is in the catalog
  for (const [name, id] of Object.entries(BPF_FUNC)) if (id !== 0) assert.equal(HELPERS.get(id)?.name, name);
});
