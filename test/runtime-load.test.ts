/**
 * Loading (src/runtime/runtime.ts, loader.ts): collections from the
 * fixtures, kernel-style ids, map references resolved to addresses, .rodata
 * frozen, prog_array and map-in-map slots filled, tail calls to the limit of
 * 33, map contents after runs, load-time errors (unknown helper, kfunc,
 * unknown map fd, privilege) and close() at every level.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { FIXTURES } from './paths.js';
import { assemble } from '../src/isa/index.js';
import { loadObjectFile } from '../src/object/file.js';
import { ManualClock, Runtime } from '../src/runtime/index.js';
import { RingBufReader, type RingBuf } from '../src/maps/index.js';
import { loadCollectionFile, Runtime as NodeRuntime } from '../src/runtime/node.js';
import { TsbpfError } from '../src/errors.js';
import { eth, ip4l4, tcp, udp } from './runtime-packets.js';
import { countThenTailCall, mapRefs } from './support/programs.js';

for (const engine of ['interpreter', 'jit'] as const) {
  test(`[${engine}] xdp_firewall: counts per protocol, drops blocked sources, map values readable from the host`, async () => {
    const rt = new Runtime({ engine });
    const c = await loadCollectionFile(join(FIXTURES, 'xdp_firewall.o'), rt);
    const fw = c.program('xdp_firewall');
    const udpPkt = eth(0x0800, ip4l4({ src: [10, 9, 9, 9] }, 17, udp(1, 2)));
    const tcpPkt = eth(0x0800, ip4l4({ src: [10, 1, 2, 3] }, 6, tcp(1, 2)));
    assert.equal(fw.run({ data: udpPkt }).retval, 2);
    assert.equal(fw.run({ data: tcpPkt, repeat: 3 }).retval, 2);
    c.map('blocklist').set(Uint8Array.of(10, 1, 2, 3), Uint8Array.of(1));
    assert.equal(fw.run({ data: tcpPkt }).retval, 1);
    const counts = c.map('proto_count');
    assert.deepEqual(counts.get(17), Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(counts.get(6), Uint8Array.of(4, 0, 0, 0, 0, 0, 0, 0));
    rt.close();
  });

  test(`[${engine}] tail calls: prog_array slots from the object, a self tail call stops after 33`, async () => {
    const rt = new Runtime({ engine });
    const c = await loadCollectionFile(join(FIXTURES, 'tail_call.o'), rt);
    const d = c.program('dispatch');
    // slot = len & 3: [0] tail_a (XDP_DROP), [2] tail_b (XDP_TX), others empty (fall through: XDP_PASS)
    assert.equal(d.run({ data: new Uint8Array(64) }).retval, 1);
    assert.equal(d.run({ data: new Uint8Array(65) }).retval, 2);
    assert.equal(d.run({ data: new Uint8Array(66) }).retval, 3);
    c.map('jump_table').delete(2);
    assert.equal(d.run({ data: new Uint8Array(66) }).retval, 2);

    const counter = rt.createMap({ name: 'count', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, pinning: 'none' });
    const table = rt.createMap({ name: 'self', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, pinning: 'none' });
    const insns = mapRefs(assemble(countThenTailCall(0)), counter.id, table.id);
    const self = await rt.loadProgram({ name: 'self', type: 'xdp', insns });
    table.set(0, self.id);
    const res = self.run({ data: new Uint8Array(64) });
    assert.equal(res.retval, 7);
    // The entry run plus MAX_TAIL_CALL_CNT (33) tail calls.
    assert.deepEqual(counter.get(0), Uint8Array.of(34, 0, 0, 0, 0, 0, 0, 0));
    rt.close();
  });
}

test('ids: maps and programs are numbered from 1 like the kernel, per runtime', async () => {
  const rt = new Runtime();
  const c = await loadCollectionFile(join(FIXTURES, 'map_in_map.o'), rt);
  const mapIds = [...c.maps.values()].map((m) => m.id);
  assert.deepEqual(mapIds, mapIds.map((_, i) => i + 1));
  const p = c.program('map_in_map');
  assert.equal(p.id, 1);
  assert.equal(rt.programById(1), p);
  // outer_array slot 0 holds inner_a (from the object's initialiser): the program counts into it.
  p.run({ data: new Uint8Array(64) });
  p.run({ data: new Uint8Array(64) });
  assert.deepEqual(c.map('inner_a').get(0), Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0));
  rt.close();
});

test('global data: .rodata frozen and readable, .data/.bss written by the program', async () => {
  const rt = new Runtime();
  const c = await loadCollectionFile(join(FIXTURES, 'global_data.o'), rt);
  const rodata = [...c.maps.values()].find((m) => m.spec.section === '.rodata')!;
  assert.equal(rodata.frozen, true);
  assert.throws(() => rodata.set(0, new Uint8Array(rodata.valueSize)), (e: unknown) => e instanceof TsbpfError && e.errno === 'EPERM');
  const p = c.program('global_data');
  const res = p.run({ data: new Uint8Array(200) });
  assert.equal(res.retval, 2);
  const bss = [...c.maps.values()].find((m) => m.spec.section === '.bss')!;
  assert.notDeepEqual(bss.get(0), new Uint8Array(bss.valueSize));
  rt.close();
});

test('load errors: unknown helper named, unknown map fd, kfunc, privilege', async () => {
  const rt = new Runtime({ verify: 'structural' });
  await assert.rejects(rt.loadProgram({ type: 'xdp', insns: assemble('call 211\nr0 = 0\nexit').map((i) => (i.code === 0x85 ? { ...i, imm: 9999 } : i)) }), /invalid func unknown#9999/);
  await assert.rejects(rt.loadProgram({ type: 'xdp', insns: assemble('call 13\nr0 = 0\nexit') }), /bpf_clone_redirect#13/);
  await assert.rejects(rt.loadProgram({ type: 'xdp', insns: mapRefs(assemble('r1 = 0 ll\nr0 = 0\nexit'), 77) }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF');
  const kfunc = assemble('call 1\nr0 = 0\nexit');
  kfunc[0]!.src = 2;
  await assert.rejects(rt.loadProgram({ type: 'xdp', insns: kfunc }), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP');
  const user = new Runtime({ privileged: false });
  await assert.rejects(user.loadProgram({ type: 'xdp', insns: assemble('r0 = 0\nexit') }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EPERM');
  const sf = await user.loadProgram({ type: 'socket_filter', insns: assemble('r0 = 0\nexit') });
  assert.equal(sf.run({ data: new Uint8Array(60) }).retval, 0);
  user.close();
  rt.close();
});

test('a verifier rejection keeps the log and names the instruction', async () => {
  const rt = new Runtime();
  await assert.rejects(rt.loadProgram({ type: 'xdp', insns: assemble('r0 = *(u64 *)(r10 +8)\nexit') }), (e: unknown) => e instanceof TsbpfError && /insn 0|invalid/.test(e.message));
  rt.close();
});

test('close(): programs, collections and the runtime', async () => {
  const rt = new Runtime();
  const spec = await loadObjectFile(join(FIXTURES, 'xdp_firewall.o'));
  const c = await rt.load(spec);
  const p = c.program('xdp_pass');
  const m = c.map('blocklist');
  p.close();
  assert.throws(() => p.run({ data: new Uint8Array(64) }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF');
  assert.equal(rt.programById(p.id), undefined);
  c.close();
  assert.equal(m.closed, true);
  assert.throws(() => m.get(Uint8Array.of(1, 2, 3, 4)), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF');
  // A second load of the same spec works and gets new ids.
  const c2 = await rt.load(spec);
  assert.ok(c2.map('blocklist').id > m.id);
  rt.close();
  await assert.rejects(rt.load(spec), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF');
  assert.equal(c2.map('blocklist').closed, true);
});

test('load options: a subset of programs, map overrides, shared maps', async () => {
  const rt = new Runtime();
  const spec = await loadObjectFile(join(FIXTURES, 'xdp_firewall.o'));
  const a = await rt.load(spec, { programs: ['xdp_firewall'], mapOverrides: { blocklist: { maxEntries: 8 } } });
  assert.deepEqual([...a.programs.keys()], ['xdp_firewall']);
  assert.equal(a.map('blocklist').maxEntries, 8);
  const b = await rt.load(spec, { replaceMaps: { blocklist: a.map('blocklist') } });
  a.map('blocklist').set(Uint8Array.of(10, 0, 0, 1), Uint8Array.of(1));
  assert.equal(b.program('xdp_firewall').run({ data: eth(0x0800, ip4l4({ src: [10, 0, 0, 1] }, 6, tcp(1, 2))) }).retval, 1);
  b.close();
  assert.equal(a.map('blocklist').closed, false);
  await assert.rejects(rt.load(spec, { programs: ['nope'] }), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOENT');
  rt.close();
});

test('maps pinned by name (LIBBPF_PIN_BY_NAME): pinned at load, reused by the next load, refused when incompatible', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-pins-'));
  try {
    const obj = join(FIXTURES, 'percpu.o');
    const rt = new NodeRuntime({ numCpus: 2 });
    const a = await loadCollectionFile(obj, rt, { pinPath: dir });
    assert.ok(existsSync(join(dir, 'cpu_by_queue')));
    // Pins are snapshots: save a host change, then a second load picks it up.
    a.map('cpu_by_queue').set(5, [Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0), Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0)]);
    a.map('cpu_by_queue').pin(join(dir, 'cpu_by_queue'));
    const b = await loadCollectionFile(obj, rt, { pinPath: dir });
    assert.notEqual(b.map('cpu_by_queue'), a.map('cpu_by_queue'));
    assert.deepEqual(b.map('cpu_by_queue').get(5), [Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0), Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0)]);
    // Maps without pinning are always new.
    assert.notEqual(b.map('cpu_stats').id, a.map('cpu_stats').id);
    const bad = rt.createMap({ name: 'cpu_by_queue', type: 'percpu_hash', keySize: 4, valueSize: 8, maxEntries: 3, flags: 0, pinning: 'none' });
    bad.pin(join(dir, 'cpu_by_queue'));
    await assert.rejects(loadCollectionFile(obj, rt, { pinPath: dir }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL' && /reuse pinned map/.test(e.message));
    rt.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tracer_ringbuf: tracepoint and kprobe programs test-run on a context buffer, events read from the ring', async () => {
  const clock = new ManualClock(123_456_789n);
  const rt = new Runtime({ clock, identity: { pid: 4242, tgid: 4240, uid: 0, gid: 0, comm: 'nginx' } });
  const c = await loadCollectionFile(join(FIXTURES, 'tracer_ringbuf.o'), rt);
  const reader = new RingBufReader(c.map('events') as RingBuf);
  assert.equal(c.program('trace_openat').run({ ctx: new Uint8Array(64) }).retval, 0);
  assert.equal(c.program('kprobe_openat').run({}).retval, 0);
  const events: Uint8Array[] = [];
  reader.consume((e) => events.push(e.slice()));
  assert.equal(events.length, 2);
  const ev = events.map((e) => {
    const dv = new DataView(e.buffer);
    return { pid: dv.getUint32(0, true), source: dv.getUint32(4, true), ts: dv.getBigUint64(8, true), comm: Buffer.from(e.subarray(16, 32)).toString('latin1').replace(/\0+$/, '') };
  });
  assert.deepEqual(ev, [
    { pid: 4240, source: 1, ts: 123_456_789n, comm: 'nginx' },
    { pid: 4240, source: 2, ts: 123_456_789n, comm: 'nginx' },
  ]);
  reader.close();
  rt.close();
});
