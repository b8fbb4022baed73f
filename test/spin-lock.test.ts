/**
 * bpf_spin_lock (src/verifier/spin-lock.ts, src/helpers/spin-lock.ts,
 * src/maps/special-fields.ts). The kernel's verdicts on the C programs of
 * test/real-progs/spin_lock_*.c are recorded (test/real-progs.test.ts holds
 * tsbpf to them); here: the lock's place in the state's pruning, the value
 * fields found in BTF, and running locked programs in both engines, where
 * the lock word stays zero as the kernel's copy_map_value leaves it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { verify, type VerifierMapInfo } from '../src/verifier/index.js';
import { assemble } from '../src/isa/asm/index.js';
import { Runtime } from '../src/runtime/index.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { mapValueFields } from '../src/verifier/spin-lock.js';
import { TsbpfError } from '../src/errors.js';
import { DIR } from './real-progs/corpus.js';

const LOCKED: VerifierMapInfo = { name: 'counters', type: 'hash', keySize: 4, valueSize: 24, maxEntries: 8, flags: 0, btf: true, fields: { spinLock: 0 } };

// The lock taken only on the jump target's path, which rejoins the fall-through's: the
// fall-through (explored first) reaches `join` without it, the other with it.
const PRUNE = `
  r6 = r1
  *(u32 *)(r10 -4) = 0
  r2 = r10
  r2 += -4
  r1 = map[fd:0]
  call bpf_map_lookup_elem
  if r0 == 0x0 goto out
  r7 = r0
  r1 = *(u32 *)(r6 +0)
  if r1 > 0x64 goto lock
join:
  r1 = *(u64 *)(r7 +8)
  r0 = 0x0
  exit
lock:
  r1 = r7
  call bpf_spin_lock
  goto join
out:
  r0 = 0x0
  exit
`;

test('states that differ only in the lock held are not pruned together (states_equal)', () => {
  const r = verify({ insns: assemble(PRUNE), progType: 'sched_cls', maps: [LOCKED], logLevel: 2 });
  assert.equal(r.ok, false);
  assert.equal(r.error!.kernelMessage, 'BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region');
  // with the unlock on the way out of the locked path, both paths end unlocked and the program loads
  const fixed = PRUNE.replace('  call bpf_spin_lock\n  goto join', '  call bpf_spin_lock\n  r1 = r7\n  call bpf_spin_unlock\n  goto join');
  assert.equal(verify({ insns: assemble(fixed), progType: 'sched_cls', maps: [LOCKED] }).ok, true);
});

test('a map without BTF cannot hold a lock; the lock must be at the field\'s constant offset', () => {
  const prog = (off: number) => assemble(`
    *(u32 *)(r10 -4) = 0
    r2 = r10
    r2 += -4
    r1 = map[fd:0]
    call bpf_map_lookup_elem
    if r0 == 0x0 goto out
    r1 = r0
    r1 += ${off}
    call bpf_spin_lock
    r0 = 0x0
  out:
    exit`);
  const noBtf = verify({ insns: prog(0), progType: 'sched_cls', maps: [{ ...LOCKED, btf: false, fields: undefined }] });
  assert.equal(noBtf.error!.kernelMessage, "map 'counters' has to have BTF in order to use bpf_spin_lock");
  const off = verify({ insns: prog(8), progType: 'sched_cls', maps: [LOCKED] });
  assert.equal(off.error!.kernelMessage, "off 8 doesn't point to 'struct bpf_spin_lock' that is at 0");
});

test('the value fields come from BTF: the lock and the timer, nested structs included', () => {
  const coll = loadObjectFileSync(join(DIR, 'spin_lock_nested.o'));
  const guards = coll.maps.get('guards')!;
  assert.deepEqual(mapValueFields(coll.btf!, guards.btfValueTypeId!), { spinLock: 12 });
  const counters = coll.maps.get('counters')!;
  assert.deepEqual(mapValueFields(coll.btf!, counters.btfValueTypeId!), { spinLock: 0 });
  assert.equal(mapValueFields(coll.btf!, coll.maps.get('plain')!.btfValueTypeId!), undefined);
});

for (const engine of ['jit', 'interpreter'] as const) {
  test(`locked updates run (${engine}); the lock word stays zero whatever is written over it`, async () => {
    using rt = new Runtime({ engine });
    const coll = await rt.load(loadObjectFileSync(join(DIR, 'spin_lock_counter.o')));
    const counters = coll.map('counters', 'hash');
    // the host's value carries a non-zero lock word: the map keeps zeros there (copy_map_value)
    const init = new Uint8Array(24);
    init.fill(0xff, 0, 4);
    new DataView(init.buffer).setBigUint64(8, 5n, true);
    // the program's key is skb->protocol: an IPv4 frame's is htons(ETH_P_IP), 8 as the u32 read
    counters.set(8, init);
    assert.deepEqual([...counters.get(8)!.subarray(0, 4)], [0, 0, 0, 0]);
    const prog = coll.program('spin_lock_counter');
    const frame = new Uint8Array(60);
    frame[12] = 0x08;
    for (let n = 0; n < 3; n++) prog.run({ data: frame });
    const v = counters.get(8)!;
    const dv = new DataView(v.buffer, v.byteOffset);
    assert.equal(dv.getBigUint64(8, true), 8n);
    assert.ok(dv.getBigUint64(16, true) > 0n, 'bytes counted');
    assert.equal(dv.getUint32(0, true), 0, 'the lock is free after the program');
    // BPF_F_LOCK is valid for a value with a lock (array_map/htab_map_update_elem), and still zeroes it
    const guards = coll.map('guards', 'array');
    const g = new Uint8Array(24).fill(7);
    guards.set(1, g, 4 /* BPF_F_LOCK */);
    assert.deepEqual([...guards.get(1)!.subarray(12, 16)], [0, 0, 0, 0]);
    assert.equal(guards.get(1)![0], 7);
    assert.throws(() => coll.map('plain', 'array').set(0, new Uint8Array(8), 4), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  });
}

test('in a shared space the lock word is taken and given back with Atomics; a held lock survives an update', async () => {
  using rt = new Runtime({ shared: true });
  const coll = await rt.load(loadObjectFileSync(join(DIR, 'spin_lock_counter.o')));
  const counters = coll.map('counters', 'hash');
  counters.set(8, new Uint8Array(24));
  const frame = new Uint8Array(60);
  frame[12] = 0x08;
  coll.program('spin_lock_counter').run({ data: frame });
  assert.equal(new DataView(counters.get(8)!.buffer).getBigUint64(8, true), 1n);
  // the word itself, in the map's memory: free after the run
  const addr = (counters as unknown as { lookupElem(k: number): number }).lookupElem(keyAt(rt, 8));
  const words = new Int32Array(rt.space.memory.buffer);
  assert.equal(Atomics.load(words, addr >>> 2), 0);
  // held (as by a program on another thread): an update copies around it, a host read shows 0
  Atomics.store(words, addr >>> 2, 1);
  counters.set(8, new Uint8Array(24).fill(3));
  assert.equal(Atomics.load(words, addr >>> 2), 1);
  assert.deepEqual([...counters.get(8)!.subarray(0, 4)], [0, 0, 0, 0]);
  Atomics.store(words, addr >>> 2, 0);
});

/** A u32 key written into the runtime's space (for the map's address-based lookup). */
function keyAt(rt: Runtime, k: number): number {
  const a = rt.space.alloc(4, 4);
  new DataView(rt.space.memory.buffer).setUint32(a, k, true);
  return a;
}
