// libbpf's defaults for a map declared without them (object/maps.ts mapAsCreated):
// a perf_event_array with no max_entries gets one slot per possible CPU, in both
// runtimes, so the tracing tools that declare it so (most of bcc's libbpf-tools) load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime } from '../src/index.js';
import { KernelRuntime, possibleCpus } from '../src/kernel/index.js';
import { TsbpfError } from '../src/errors.js';
import type { CollectionSpec, MapSpec } from '../src/object/spec.js';
import { kernelSkip } from './kernel-support.js';

const spec = (type: MapSpec['type'], maxEntries: number): MapSpec => ({ name: 'events', type, keySize: 4, valueSize: 4, maxEntries, flags: 0, pinning: 'none' });
const coll = (m: MapSpec): CollectionSpec => ({ objectName: 'defaults', programs: new Map(), maps: new Map([[m.name, m]]), endian: 'le' });

test('a perf_event_array without max_entries gets one slot per CPU, as libbpf creates it', async () => {
  const rt = new Runtime({ numCpus: 3 });
  const c = await rt.load(coll(spec('perf_event_array', 0)));
  try {
    assert.equal(c.map('events').maxEntries, 3);
  } finally {
    c.close();
  }
});

test('other maps without max_entries are still refused (EINVAL, as BPF_MAP_CREATE)', async () => {
  const rt = new Runtime({ numCpus: 3 });
  await assert.rejects(rt.load(coll(spec('array', 0))), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
});

test('the kernel runtime sizes it the same way (possible CPUs)', async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const c = await new KernelRuntime().load(coll(spec('perf_event_array', 0)));
  try {
    assert.equal(c.map('events').maxEntries, possibleCpus());
  } finally {
    c.close();
  }
});
