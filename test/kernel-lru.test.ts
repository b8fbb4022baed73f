/**
 * What a program's lookup does to an LRU hash map, against the kernel
 * (kernel/bpf/bpf_lru_list.c): it sets the element's reference bit and
 * moves nothing, so an element a program looked up survives the next
 * eviction even when every other element was updated after the lookup (an
 * exact recency list would evict it: its last use is the oldest). The same
 * script runs on the user-space Runtime and on KernelRuntime, the thread
 * pinned to CPU 0 (the kernel's LRU free lists are per CPU): fill a 4-entry
 * map, optionally look key 0 up from a program, update keys 1..3, insert
 * key 4.
 *
 * The kernel frees LRU nodes in batches (hash-table.ts says what tsbpf does
 * not model), so after the insert it may hold fewer keys than tsbpf; what
 * both must agree on: without the lookup the same survivors, with it key 0
 * and key 4 survive, and tsbpf keeps every key the kernel keeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelSkip } from './kernel-support.js';
import { Runtime } from '../src/runtime/index.js';
import { KernelRuntime, possibleCpus, openSys } from '../src/kernel/index.js';
import { assemble, BPF_PSEUDO_MAP_FD, OP_LDDW } from '../src/isa/index.js';
import { LOOKUP_KEY0 } from './support/programs.js';
import type { RuntimeApi } from '../src/runtime/api.js';
import type { CollectionSpec, MapSpec, ProgramSpec } from '../src/object/spec.js';

const MAP: MapSpec = { name: 'lru', type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, pinning: 'none' };

function spec(): CollectionSpec {
  const insns = assemble(`${LOOKUP_KEY0}\n r0 = 2\n exit`);
  const at = insns.findIndex((i) => i.code === OP_LDDW);
  insns[at]!.src = BPF_PSEUDO_MAP_FD;
  const prog: ProgramSpec = { name: 'look', section: 'xdp', type: 'xdp', license: 'GPL', insns, references: [{ index: at, kind: 'map', map: 'lru' }] };
  return { objectName: 'lru', programs: new Map([['look', prog]]), maps: new Map([['lru', MAP]]), endian: 'le' };
}

const u32 = (n: number): Uint8Array => Uint8Array.of(n, n >> 8, n >> 16, n >> 24);
const val = (n: number): Uint8Array => new Uint8Array(8).fill(n);

/** The keys left after the script. */
async function script(rt: RuntimeApi, lookup: boolean): Promise<number[]> {
  const c = await rt.load(spec());
  try {
    const m = c.map('lru');
    for (let k = 0; k < 4; k++) m.set(u32(k), val(k));
    if (lookup) assert.equal(c.program('look').run({ data: new Uint8Array(64) }).retval, 2);
    for (let k = 1; k < 4; k++) m.set(u32(k), val(10 + k));
    m.set(u32(4), val(4));
    return [...m.keys()].map((k) => new DataView((k as Uint8Array).buffer, (k as Uint8Array).byteOffset).getUint32(0, true)).sort((a, b) => a - b);
  } finally {
    c.close();
  }
}

test('kernel: a program lookup sets the LRU reference bit; the looked-up key outlives keys updated after it', async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  (await openSys()).pinThreadToCpu(0);
  const user = new Runtime({ numCpus: possibleCpus(), engine: 'jit' });
  const interp = new Runtime({ numCpus: possibleCpus(), engine: 'interpreter' });
  const kernel = new KernelRuntime();
  try {
    // no lookup: key 0 is the least recently used; the same survivors everywhere
    const plainK = await script(kernel, false);
    assert.deepEqual(plainK, [1, 2, 3, 4]);
    assert.deepEqual(await script(user, false), plainK);
    assert.deepEqual(await script(interp, false), plainK);
    // a lookup of key 0 before the updates: referenced, it survives (an exact LRU would evict it)
    const k = await script(kernel, true);
    assert.ok(k.includes(0) && k.includes(4), `kernel kept ${k}`);
    for (const rt of [user, interp]) {
      const u = await script(rt, true);
      assert.ok(u.includes(0) && u.includes(4), `tsbpf kept ${u}`);
      for (const key of k) assert.ok(u.includes(key), `the kernel kept ${key}, tsbpf did not (${u} vs ${k})`);
      assert.equal(u.length, 4, 'tsbpf evicts one element, only when full');
    }
  } finally {
    user.close();
    interp.close();
    kernel.close();
  }
});
