/**
 * BPF_MAP_TYPE_STACK_TRACE (src/maps/stack-trace.ts) against
 * kernel/bpf/stackmap.c's rules: ids from jhash2 of the frames, EEXIST /
 * REUSE_STACKID / FAST_STACK_CMP, ENOMEM from the preallocated elements,
 * skip and depth, build-id entries, and the host API (lookup, get-next-key,
 * delete, update). The last test checks the ids against Linux itself: a
 * real program stores real stacks, and every id the kernel gave must be
 * the one tsbpf computes for the same frames (root; skips otherwise).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MapError, StackTraceMap } from '../src/maps/index.js';
import { jhash2 } from '../src/maps/jhash.js';
import { BPF_F_FAST_STACK_CMP, BPF_F_REUSE_STACKID, BPF_F_USER_STACK } from '../src/uapi/stack-trace.js';
import { ERRNO_VALUES } from '../src/errors.js';
import { make, readU64, spec, u32 } from './maps-support.js';
import { ROOT } from './paths.js';
import { kernelSkip } from './kernel-support.js';

const neg = (e: keyof typeof ERRNO_VALUES): number => -ERRNO_VALUES[e];

/** The id Linux gives `frames` in a map of `buckets` buckets: jhash2 over the u64 ips as u32 words, seed 0. */
function kernelId(frames: readonly bigint[], buckets: number): number {
  const words = new Uint32Array(frames.length * 2);
  const dv = new DataView(words.buffer);
  frames.forEach((f, i) => dv.setBigUint64(i * 8, f, true));
  return jhash2(words, 0, words.length, 0) & (buckets - 1);
}

/** Two different chains that land in the same bucket of a `buckets`-bucket map. */
function colliding(buckets: number): [bigint[], bigint[]] {
  const seen = new Map<number, bigint[]>();
  for (let i = 1n; ; i++) {
    const f = [0xffffffff81000000n + i * 16n, 0xffffffff82000000n];
    const id = kernelId(f, buckets);
    const other = seen.get(id);
    if (other) return [other, f];
    seen.set(id, f);
  }
}

test('jhash2 is the kernel\'s lookup3: values of include/linux/jhash.h', () => {
  // Computed by compiling the kernel's jhash2 (include/linux/jhash.h, 6.12) on x86-64.
  assert.equal(jhash2(new Uint32Array(0), 0, 0, 0), 0xdeadbeef, 'no words: the initial state');
  assert.equal(jhash2(Uint32Array.of(1, 2, 3, 4), 0, 4, 0), 1716064838);
  assert.equal(jhash2(Uint32Array.of(0x81001234, 0xffffffff, 0x81005678, 0xffffffff), 0, 4, 0), 1575204785);
  assert.equal(jhash2(Uint32Array.of(7), 0, 1, 0), 2849332378);
  assert.equal(jhash2(Uint32Array.of(1, 2, 3, 4), 0, 4, 1), 72272362, 'the seed');
  assert.equal(jhash2(Uint32Array.of(9, 1, 2, 3, 4), 1, 4, 0), 1716064838, 'the offset selects the words');
});

test('stack_trace: a chain gets its jhash2 id, the same chain the same id, the frames then zeros', () => {
  const m = make<StackTraceMap>(spec('stack_trace', 4, 4 * 8, 5));
  assert.equal(m.nBuckets, 8, 'max_entries rounded up to a power of two');
  const chain = [0xffffffff81001234n, 0xffffffff81005678n];
  const id = m.stackId(chain, 0n);
  assert.equal(id, kernelId(chain, 8));
  assert.equal(m.stackId(chain, 0n), id, 'same frames, same id');
  const v = m.get(id)!;
  assert.equal(v.length, 32);
  assert.equal(readU64(v), chain[0]);
  assert.equal(readU64(v.subarray(8)), chain[1]);
  assert.deepEqual([...v.subarray(16)], new Array(16).fill(0));
  assert.deepEqual(m.frames(id), chain);
  assert.deepEqual([...m.keys()].map((k) => new DataView(k.buffer).getUint32(0, true)), [id]);
});

test('stack_trace: skip and depth are the kernel\'s: the id covers the frames kept', () => {
  const m = make<StackTraceMap>(spec('stack_trace', 4, 3 * 8, 64));
  const chain = [1n, 2n, 3n, 4n, 5n, 6n];
  const id = m.stackId(chain, 2n);
  assert.deepEqual(m.frames(id), [3n, 4n, 5n], 'skip 2, then value_size / 8 frames');
  assert.equal(id, kernelId([3n, 4n, 5n], 64));
  assert.equal(m.stackId([1n, 2n], 2n), neg('EFAULT'), 'skipping every frame');
  assert.equal(m.stackId([], 0n), neg('EFAULT'), 'no frames at all');
  assert.equal(m.stackId(chain, 1n << 11n), neg('EINVAL'), 'BPF_F_USER_BUILD_ID is get_stack\'s, not get_stackid\'s');
});

test('stack_trace: another chain in a used bucket is EEXIST, REUSE_STACKID replaces, FAST_STACK_CMP trusts the hash', () => {
  const m = make<StackTraceMap>(spec('stack_trace', 4, 16, 4));
  const [a, b] = colliding(4);
  const id = m.stackId(a, 0n);
  assert.equal(m.stackId(b, 0n), neg('EEXIST'));
  assert.deepEqual(m.frames(id), a, 'the first chain stays');
  assert.equal(m.stackId(b, BPF_F_REUSE_STACKID), id);
  assert.deepEqual(m.frames(id), b, 'REUSE_STACKID put the new chain in the bucket');
  // FAST_STACK_CMP: a matching hash is enough (here the same chain; a different chain with an equal 32-bit hash would pass too).
  assert.equal(m.stackId(b, BPF_F_FAST_STACK_CMP), id);
  assert.equal(m.size, 1);
});

test('stack_trace: ENOMEM once max_entries chains are stored; delete gives the element back', () => {
  // max_entries 3: four buckets, three preallocated elements
  const n = make<StackTraceMap>(spec('stack_trace', 4, 8, 3));
  const ids = new Set<number>();
  const chains: bigint[][] = [];
  for (let i = 1n; chains.length < 4; i++) {
    const id = kernelId([i], 4);
    if (!ids.has(id)) {
      ids.add(id);
      chains.push([i]);
    }
  }
  for (const c of chains.slice(0, 3)) assert.ok(n.stackId(c, 0n) >= 0);
  assert.equal(n.stackId(chains[3]!, 0n), neg('ENOMEM'), 'three elements for max_entries 3');
  const first = kernelId(chains[0]!, 4);
  n.delete(first);
  assert.equal(n.stackId(chains[3]!, 0n), kernelId(chains[3]!, 4), 'the deleted element is free again');
});

test('stack_trace: the host API — lookup, next key in id order, delete E2BIG/ENOENT, update EINVAL', () => {
  const m = make<StackTraceMap>(spec('stack_trace', 4, 8, 16));
  const ids = [[10n], [20n], [30n]].map((c) => m.stackId(c, 0n)).filter((id) => id >= 0);
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const walk: number[] = [];
  for (let k = m.nextKey(); k; k = m.nextKey(k)) walk.push(new DataView(k.buffer).getUint32(0, true));
  assert.deepEqual(walk, sorted);
  const free = [...Array(16).keys()].find((i) => !sorted.includes(i))!;
  assert.equal(m.get(free), undefined);
  assert.equal(new DataView(m.nextKey(u32(free))!.buffer).getUint32(0, true), sorted[0], 'an empty id restarts the walk');
  assert.throws(() => m.delete(free), (e: unknown) => e instanceof MapError && e.errno === 'ENOENT');
  assert.throws(() => m.delete(16), (e: unknown) => e instanceof MapError && e.errno === 'E2BIG');
  assert.throws(() => m.set(sorted[0]!, new Uint8Array(8)), (e: unknown) => e instanceof MapError && e.errno === 'EINVAL');
  m.delete(sorted[0]!);
  assert.equal(m.get(sorted[0]!), undefined);
});

test('stack_trace: BPF_F_STACK_BUILD_ID stores struct bpf_stack_build_id entries (status IP: the model has no build ids)', () => {
  const m = make<StackTraceMap>(spec('stack_trace', 4, 2 * 32, 4, 1 << 5));
  const id = m.stackId([0x401000n, 0x402000n, 0x403000n], BPF_F_USER_STACK);
  const v = m.get(id)!;
  const dv = new DataView(v.buffer);
  assert.equal(dv.getInt32(0, true), 2, 'BPF_STACK_BUILD_ID_IP');
  assert.equal(dv.getBigUint64(24, true), 0x401000n);
  assert.equal(dv.getBigUint64(56, true), 0x402000n, 'two frames fit');
  assert.deepEqual(m.frames(id), [0x401000n, 0x402000n]);
  assert.equal(m.stackId([0x401000n, 0x402000n], BPF_F_USER_STACK), id, 'the same chain compares equal after it is built');
});

test('stack_trace: the ids Linux gave real stacks are the ids tsbpf computes', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const { KernelRuntime } = await import('../src/kernel/index.js');
  const { loadObjectFile } = await import('../src/object/file.js');
  const rt = new KernelRuntime();
  const coll = await rt.load(await loadObjectFile(join(ROOT, 'examples/testing/offcputime.bpf.o')));
  const link = coll.program('sched_switch').attach();
  const entries: Array<[number, bigint[]]> = [];
  try {
    // context switches happen while this test waits; read the map once the program is detached
    await new Promise((r) => setTimeout(r, 200));
    link.detach();
    const sm = coll.map('stackmap');
    for (let k = sm.nextKey(); k; k = sm.nextKey(k)) {
      const v = sm.get(k) as Uint8Array | undefined;
      if (!v) continue;
      const dv = new DataView(v.buffer, v.byteOffset);
      const frames: bigint[] = [];
      // every slot, then the trailing zeros off: a user stack can hold a zero ip between two
      // frames (code without frame pointers), and the kernel hashed the frames after it too
      for (let o = 0; o < v.length; o += 8) frames.push(dv.getBigUint64(o, true));
      while (frames.length > 0 && frames[frames.length - 1] === 0n) frames.pop();
      entries.push([new DataView(k.buffer, k.byteOffset).getUint32(0, true), frames]);
    }
  } finally {
    coll.close();
  }
  if (entries.length === 0) return t.skip('the kernel stored no stack (no context switch seen)');
  const ours = make<StackTraceMap>(spec('stack_trace', 4, 127 * 8, 1024));
  for (const [id, frames] of entries) {
    assert.ok(frames.length > 0);
    // The value does not say how many frames the kernel stored: a user stack may end in frames whose ip is 0.
    let chain = frames;
    while (kernelId(chain, 1024) !== id && chain.length < 127) chain = [...chain, 0n];
    assert.equal(kernelId(chain, 1024), id, `kernel id ${id} for ${frames.length} frames (and up to ${127 - frames.length} zero frames)`);
    assert.equal(ours.stackId(chain, BPF_F_REUSE_STACKID), id);
  }
});
