/**
 * BPF_PROBE_MEM (src/memory/probe-mem.ts): a load through a kernel-object
 * pointer reads the kernel model's memory and nothing else, in both
 * engines. Each escape tried here points the tp_btf arguments of
 * test/testing-progs/probe_mem.c somewhere a program must not read (another
 * block of the runtime, a map, the probe table itself, past an arena's end,
 * above 4 GiB, a closed model) and asserts that every load read 0, where the
 * bytes there are not 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { ROOT } from './paths.js';
import { KernelModel, TestKit, type KernelObject } from '../src/testing/index.js';
import type { Collection } from '../src/runtime/index.js';
import { AddressSpace, NULL_GUARD } from '../src/memory/address-space.js';
import { PROBE_TABLE_MAX, probeTable } from '../src/memory/probe-mem.js';
import { TsbpfError } from '../src/errors.js';
import { loadBtfFile } from '../src/object/btf/file.js';

const PROG = join(ROOT, 'test/testing-progs/probe_mem.o');
const ENGINES = ['interpreter', 'jit'] as const;

function slots(coll: Collection): bigint[] {
  return Array.from({ length: 8 }, (_, i) => {
    const b = coll.map('seen').get(i) as Uint8Array;
    return new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  });
}

/** Fire sched_switch with `next` = arg and read back what the direct loads through it saw (slots 0..4). */
async function loadsAt(kit: TestKit, coll: Collection, arg: bigint | KernelObject): Promise<bigint[]> {
  for (let i = 0; i < 8; i++) coll.map('seen').set(i, new Uint8Array(8).fill(0xee)); // not 0: a load must write 0
  await kit.fire('tp_btf/sched_switch', { args: [false, kit.task, arg] });
  return slots(coll).slice(0, 5);
}

const ZEROS = [0n, 0n, 0n, 0n, 0n];

for (const engine of ENGINES) {
  test(`probe-mem (${engine}): loads through BTF pointers read model objects, every width, and the current task`, async () => {
    using kit = new TestKit({ runtime: { engine } });
    const coll = await kit.load(PROG);
    const parent = kit.model.object('task_struct', { tgid: 99 });
    const next = kit.model.object('task_struct', { pid: 42, comm: 'xyz', start_time: 0x1122334455667788n, real_parent: parent });
    await kit.fire('tp_btf/sched_switch', { args: [false, kit.task, next] });
    const cur = BigInt(kit.task.addr);
    assert.deepEqual(slots(coll), [42n, BigInt('y'.charCodeAt(0)), 0x1122334455667788n, BigInt(parent.addr), 99n, 1000n, cur, cur]);
  });

  test(`probe-mem (${engine}): pointers outside the model read 0, never runtime memory`, async () => {
    using kit = new TestKit({ runtime: { engine } });
    const coll = await kit.load(PROG);
    const space = kit.runtime.space;
    const probe = kit.model.object('task_struct', {});
    const pidOff = probe.addressOf('pid') - probe.addr;
    const nonZero = (a: number, n = 8): void => assert.ok(space.bytes(a, n).some((b) => b !== 0), `the bytes at 0x${a.toString(16)} are not 0`);
    // another block of the runtime (what a host or another collection keeps in the space)
    const heap = space.alloc(512);
    space.u8.fill(0xaa, heap, heap + 512);
    assert.deepEqual(await loadsAt(kit, coll, BigInt(heap + 16)), ZEROS, 'the host heap');
    // memory that hooks hand to the probe-read helpers ('kernel' regions) is not the model's
    const hookArg = space.alloc(512);
    space.u8.fill(0xbb, hookArg, hookArg + 512);
    const r = space.addRegion({ base: hookArg, size: 512, kind: 'kernel', name: 'probed function argument', writable: false });
    assert.deepEqual(await loadsAt(kit, coll, BigInt(hookArg)), ZEROS, 'a hook argument');
    space.removeRegion(r);
    // a map of the program (its descriptor) and the probe table itself
    const seen = coll.map('seen');
    nonZero(seen.addr);
    assert.deepEqual(await loadsAt(kit, coll, BigInt(seen.addr)), ZEROS, 'a map descriptor');
    const table = probeTable(space);
    nonZero(table.addr);
    assert.deepEqual(await loadsAt(kit, coll, BigInt(table.addr) - BigInt(pidOff)), ZEROS, 'the probe table');
    // NULL, an address above 4 GiB whose low half is a model object, and one that wraps around 2^64
    const named = kit.model.object('task_struct', { pid: 7, tgid: 7 });
    assert.deepEqual(await loadsAt(kit, coll, named), [7n, 0n, 0n, 0n, 0n]);
    assert.deepEqual(await loadsAt(kit, coll, 0n), ZEROS, 'NULL');
    assert.deepEqual(await loadsAt(kit, coll, (1n << 32n) | BigInt(named.addr)), ZEROS, 'above 4 GiB');
    assert.deepEqual(await loadsAt(kit, coll, (0xffffffffn << 32n) | BigInt(named.addr)), ZEROS, 'a negative address');
    assert.deepEqual(await loadsAt(kit, coll, (1n << 64n) - BigInt(pidOff)), ZEROS, 'wrapping to 0');
    // a pointer field of a model object holding a runtime address: the pointer is read, not through it
    const liar = kit.model.object('task_struct', { pid: 8, real_parent: heap });
    assert.deepEqual(await loadsAt(kit, coll, liar), [8n, 0n, 0n, BigInt(heap), 0n]);
  });

  test(`probe-mem (${engine}): a load that crosses the end of kernel memory reads 0; one that ends there reads`, async () => {
    using kit = new TestKit({ runtime: { engine } });
    const coll = await kit.load(PROG);
    const space = kit.runtime.space;
    const probe = kit.model.object('task_struct', {});
    const pidOff = probe.addressOf('pid') - probe.addr;
    const [, hi] = probeTable(space).list.find(([lo, e]) => probe.addr >= lo && probe.addr < e)!;
    // the last bytes of the arena are the model's (no object yet), and beyond it is other memory
    space.writeU32(hi - 4, 0x01020304);
    const after = space.alloc(64);
    space.u8.fill(0xcc, after, after + 64);
    assert.equal((await loadsAt(kit, coll, BigInt(hi - 4 - pidOff)))[0], 0x01020304n, 'ends at the arena end');
    for (const over of [1, 2, 3]) assert.equal((await loadsAt(kit, coll, BigInt(hi - 4 + over - pidOff)))[0], 0n, `crosses by ${over}`);
  });

  test(`probe-mem (${engine}): a freed object and a closed model read 0`, async () => {
    using kit = new TestKit({ runtime: { engine } });
    const coll = await kit.load(PROG);
    const gone = kit.model.object('task_struct', { pid: 55 });
    assert.equal((await loadsAt(kit, coll, gone))[0], 55n);
    kit.model.free(gone);
    assert.equal((await loadsAt(kit, coll, BigInt(gone.addr)))[0], 0n);
    const other = new KernelModel(kit.runtime.space, kit.model.btf);
    const t = other.object('task_struct', { pid: 77 });
    assert.equal((await loadsAt(kit, coll, BigInt(t.addr)))[0], 77n, 'a second model of the space is kernel memory too');
    other.close();
    assert.equal((await loadsAt(kit, coll, BigInt(t.addr)))[0], 0n, 'not once closed');
  });
}

const VMLINUX = '/sys/kernel/btf/vmlinux';

test('probe-mem: fentry and fexit arguments of model pointers, on the running kernel\'s BTF, in both engines', async (t) => {
  if (!existsSync(VMLINUX)) return t.skip(`no ${VMLINUX} on this machine`);
  const kernelBtf = loadBtfFile(readFileSync(VMLINUX)); // parsed once for both kits
  for (const engine of ENGINES) {
    using kit = new TestKit({ kernelBtf, runtime: { engine } });
    const coll = await kit.load(join(ROOT, 'test/testing-progs/fentry_task.o'));
    const parent = kit.model.object('task_struct', { tgid: 99 });
    await kit.fire('fentry/wake_up_new_task', { args: [kit.model.object('task_struct', { pid: 5, real_parent: parent })] });
    await kit.fire('fexit/security_file_open', { args: [kit.model.object('file', { f_flags: 0o100002 })], ret: -13 });
    const got = [0, 1, 2, 3].map((i) => new DataView((coll.map('seen').get(i) as Uint8Array).buffer).getBigInt64(0, true));
    assert.deepEqual(got, [5n, 99n, 0o100002n, -13n], engine);
  }
});

test('probe-mem table: ranges are checked, bounded and removable', () => {
  const space = new AddressSpace({ initialPages: 4 });
  const table = probeTable(space);
  assert.equal(probeTable(space), table, 'one table per space');
  const bad = (f: () => void, errno: string): void => assert.throws(f, (e: unknown) => e instanceof TsbpfError && e.errno === errno);
  bad(() => table.add(0, 16), 'EINVAL');
  bad(() => table.add(NULL_GUARD - 8, 16), 'EINVAL');
  bad(() => table.add(space.size - 8, 16), 'EINVAL');
  bad(() => table.add(NULL_GUARD * 4, 0), 'EINVAL');
  const base = space.alloc(64);
  table.add(base, 64);
  assert.ok(table.readable(base, 0, 8));
  assert.ok(table.readable(base + 56, 0, 8));
  assert.ok(!table.readable(base + 57, 0, 8));
  assert.ok(!table.readable(base, 1, 1));
  assert.ok(!table.readable(base - 1, 0, 1));
  table.remove(base);
  assert.ok(!table.readable(base, 0, 1));
  assert.equal(space.readU32(table.addr), 0, 'the count the JIT reads follows');
  for (let i = 0; i < PROBE_TABLE_MAX; i++) table.add(base, 64);
  bad(() => table.add(base, 64), 'ENOSPC');
});
