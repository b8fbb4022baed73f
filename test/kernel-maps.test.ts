/**
 * Map operations against the kernel, through the interface both backends
 * share: the same script of bpf(2) commands (update with each flag, lookup,
 * delete, next-key walks, the four batch commands, lookup-and-delete,
 * queue/stack push and pop, freeze) runs on a kernel map and on a
 * user-space map of the same spec, and every outcome (value or errno) must
 * agree. Then what only the kernel has: pins in bpffs reopened by path, and
 * TypedMap over a kernel map.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BPFFS, kernelSkip } from './kernel-support.js';
import { Runtime } from '../src/runtime/index.js';
import { TsbpfError } from '../src/errors.js';
import { TypedMap } from '../src/maps/typed.js';
import { loadObjectFile } from '../src/object/file.js';
import { FIXTURES } from './paths.js';
import { KernelRuntime, possibleCpus } from '../src/kernel/index.js';
import type { MapApi, RuntimeApi } from '../src/runtime/api.js';
import type { CollectionSpec, MapSpec, MapTypeName } from '../src/object/spec.js';

const BPF_NOEXIST = 1;
const BPF_EXIST = 2;
const BPF_F_NO_PREALLOC = 1;

const hex = (v: unknown): string => (Array.isArray(v) ? v.map(hex).join('|') : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v));

function spec(type: MapTypeName, keySize: number, valueSize: number, maxEntries: number, flags = 0): MapSpec {
  return { name: `t_${type}`.slice(0, 15), type, keySize, valueSize, maxEntries, flags, pinning: 'none' };
}

const SPECS: MapSpec[] = [
  spec('hash', 4, 8, 4),
  spec('array', 4, 8, 4),
  spec('percpu_hash', 4, 8, 4),
  spec('percpu_array', 4, 4, 3),
  spec('lru_hash', 4, 8, 64),
  spec('lpm_trie', 8, 4, 8, BPF_F_NO_PREALLOC),
  spec('queue', 0, 4, 3),
  spec('stack', 0, 4, 3),
];

const key = (m: MapApi, i: number): Uint8Array => {
  const k = new Uint8Array(m.keySize);
  if (m.type === 'lpm_trie') {
    k.set([24, 0, 0, 0, 10, i, 0, 0]);
    return k;
  }
  new DataView(k.buffer).setUint32(0, i, true);
  return k;
};
const val = (m: MapApi, i: number): Uint8Array => new Uint8Array(m.valueSize).fill(i);

/** Run `f`, giving its result or the errno it threw. */
function outcome(f: () => unknown): string {
  try {
    const r = f();
    return r === undefined ? 'undefined' : hex(r);
  } catch (e) {
    if (e instanceof TsbpfError) return `error ${e.errno}`;
    throw e;
  }
}

/** The script: every step's outcome, in order. */
function script(m: MapApi): string[] {
  const out: string[] = [];
  const step = (what: string, f: () => unknown): void => void out.push(`${what}: ${outcome(f)}`);
  if (m.type === 'queue' || m.type === 'stack') {
    for (let i = 1; i <= 4; i++) step(`push ${i}`, () => m.set(0, val(m, i)));
    step('peek', () => m.get(0));
    for (let i = 0; i < 4; i++) step('pop', () => m.lookupAndDelete(0));
    step('push exist flag', () => m.set(0, val(m, 9), BPF_EXIST));
    step('lookup batch', () => m.lookupBatch(2).keys.length);
    return out;
  }
  step('update 1', () => m.set(key(m, 1), val(m, 1)));
  step('update 1 noexist', () => m.set(key(m, 1), val(m, 2), BPF_NOEXIST));
  step('update 2 exist', () => m.set(key(m, 2), val(m, 2), BPF_EXIST));
  step('update 1 exist', () => m.set(key(m, 1), val(m, 3), BPF_EXIST));
  step('lookup 1', () => m.get(key(m, 1)));
  step('has 2', () => m.has(key(m, 2)));
  for (let i = 2; i <= 5; i++) step(`update ${i}`, () => m.set(key(m, i), val(m, i)));
  step('update past max', () => m.set(key(m, 7), val(m, 7), BPF_NOEXIST));
  step('keys', () => [...m.keys()].map(hex).sort().join(','));
  step('delete 2', () => m.delete(key(m, 2)));
  step('delete 2 again', () => m.delete(key(m, 2)));
  step('lookup 2', () => m.get(key(m, 2)));
  step('update batch', () => m.updateBatch([key(m, 2), key(m, 3)], [val(m, 12), val(m, 13)]));
  step('lookup batch walk', () => {
    const seen: string[] = [];
    let cursor: Uint8Array | undefined;
    let count = 2;
    for (let n = 0; n < 20; n++) {
      let r;
      try {
        r = m.lookupBatch(count, cursor);
      } catch (e) {
        // the kernel's hash maps answer ENOSPC when one bucket holds more than `count` elements
        // (htab's __htab_map_lookup_and_delete_batch); callers retry with more room
        if (!(e instanceof TsbpfError) || e.errno !== 'ENOSPC' || count >= m.maxEntries) throw e;
        count *= 2;
        continue;
      }
      r.keys.forEach((k, i) => seen.push(`${hex(k)}=${hex(r.values[i])}`));
      if (r.done) break;
      cursor = r.cursor;
    }
    return seen.sort().join(',');
  });
  step('lookup and delete 3', () => m.lookupAndDelete(key(m, 3)));
  step('delete batch', () => m.deleteBatch([key(m, 1), key(m, 2)]));
  step('entries', () => [...m.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort().join(','));
  step('freeze', () => m.freeze());
  step('update after freeze', () => m.set(key(m, 1), val(m, 1)));
  step('freeze again', () => m.freeze());
  return out;
}

async function run(rt: RuntimeApi, s: MapSpec): Promise<string[]> {
  const coll: CollectionSpec = { objectName: 'maps', programs: new Map(), maps: new Map([[s.name, s]]), endian: 'le' };
  const c = await rt.load(coll);
  try {
    return script(c.map(s.name));
  } finally {
    c.close();
  }
}

for (const s of SPECS) {
  test(`kernel maps: ${s.type} behaves as the user-space map does`, async (t) => {
    const why = await kernelSkip();
    if (why) return t.skip(why);
    const user = new Runtime({ numCpus: possibleCpus() });
    const kernel = new KernelRuntime();
    try {
      const u = await run(user, s);
      const k = await run(kernel, s);
      assert.ok(u.length > 5);
      for (let i = 0; i < u.length; i++) assert.equal(k[i], u[i], `${s.type} step ${i}`);
    } finally {
      user.close();
      kernel.close();
    }
  });
}

test('kernel maps: pinned in bpffs, reopened by path, TypedMap over BTF', async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const dir = join(BPFFS, `tsbpf-kmaps-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const kernel = new KernelRuntime();
  try {
    const spec = await loadObjectFile(join(FIXTURES, 'xdp_firewall.o'));
    const c = await kernel.load(spec);
    const m = c.map('proto_count');
    m.set(6, new Uint8Array(m.valueSize).fill(1));
    m.pin(join(dir, 'proto_count'));
    const again = await kernel.openPinnedMap(join(dir, 'proto_count'));
    assert.equal(again.id, m.id);
    assert.equal(hex(again.get(6)), hex(m.get(6)));
    assert.equal(again.type, m.type);
    // the same BTF types the object declares, over the kernel's map
    const typed = new TypedMap(m, spec.btf!);
    const v = typed.get(6);
    assert.ok(v !== undefined);
    typed.set(17, v);
    assert.equal(hex(m.get(17)), hex(m.get(6)));
    again.close();
    c.close();
    // the pin keeps the map: reopened after the collection closed
    const third = await kernel.openPinnedMap(join(dir, 'proto_count'));
    assert.equal(hex(third.get(17)), hex(new Uint8Array(third.valueSize).fill(1)));
    third.close();
    await assert.rejects(kernel.openPinnedMap(join(dir, 'nothing')), (e: TsbpfError) => e.errno === 'ENOENT');
  } finally {
    kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
