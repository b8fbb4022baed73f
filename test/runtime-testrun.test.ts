/**
 * Program test-run (src/runtime/testrun): the contexts each program type
 * sees, what comes back, and the inputs refused with the kernel's errno
 * (net/bpf/test_run.c). Programs are small assembly snippets; the same
 * rules are checked against the real kernel in runtime-kernel.test.ts and
 * helpers-kernel.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, type Insn } from '../src/isa/index.js';
import { LOOKUP_KEY0, mapRefs } from './support/programs.js';
import { Runtime, TestRunError, type Program } from '../src/runtime/index.js';
import type { ProgTypeName } from '../src/object/spec.js';
import { eth, ip4l4, udp } from './runtime-packets.js';
import { join } from 'node:path';
import { loadObjectFileSync } from '../src/object/file.js';
import { ROOT } from './paths.js';

const rt = new Runtime();
const load = (type: ProgTypeName, src: string): Promise<Program> => rt.loadProgram({ type, insns: assemble(src) });
/** For probes the verifier (rightly) refuses, such as masking a packet pointer. */
const unverified = new Runtime({ verify: 'structural' });

function refuses(p: Program, opts: Parameters<Program['run']>[0], errno: string): void {
  assert.throws(
    () => p.run(opts),
    (e: unknown) => e instanceof TestRunError && e.errno === errno,
    `expected ${errno}`,
  );
}

const u32le = (...v: number[]): Uint8Array => {
  const b = new Uint8Array(v.length * 4);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setUint32(i * 4, x, true));
  return b;
};

const pkt64 = (): Uint8Array => {
  const p = new Uint8Array(64);
  p[12] = 0x08;
  p.set(ip4l4({}, 17, udp(1, 2)).subarray(0, 50), 14);
  return p;
};

test('xdp: struct xdp_md with real addresses, loopback ifindex 1, queue 0', async () => {
  const len = await load('xdp', 'r2 = *(u32 *)(r1 +0)\nr0 = *(u32 *)(r1 +4)\nr0 -= r2\nexit');
  assert.equal(len.run({ data: new Uint8Array(99) }).retval, 99);
  const ifx = await load('xdp', 'r0 = *(u32 *)(r1 +12)\nr2 = *(u32 *)(r1 +16)\nr0 += r2\nexit');
  assert.equal(ifx.run({ data: pkt64() }).retval, 1);
  // The packet starts 256 bytes (XDP_PACKET_HEADROOM) into a page-aligned frame.
  const head = await unverified.loadProgram({ type: 'xdp', insns: assemble('r0 = *(u32 *)(r1 +0)\nr0 &= 4095\nexit') });
  assert.equal(head.run({ data: pkt64() }).retval, 256);
  const out = len.run({ data: pkt64() });
  assert.deepEqual(out.data, pkt64());
  assert.equal(out.ctx, undefined);
  assert.ok(Number.isInteger(out.duration) && out.duration >= 0);
});

test('xdp: refused inputs (short packet, bad xdp_md) carry the kernel errno', async () => {
  const p = await load('xdp', 'r0 = 2\nexit');
  refuses(p, { data: new Uint8Array(13) }, 'EINVAL');
  assert.equal(p.run({ data: new Uint8Array(14) }).retval, 2);
  refuses(p, { data: pkt64(), ctx: u32le(0, 64, 4) }, 'EINVAL'); // data_meta must be 0
  refuses(p, { data: pkt64(), ctx: u32le(0, 65) }, 'EINVAL'); // data_end past the input
  refuses(p, { data: pkt64(), ctx: u32le(8, 4) }, 'EINVAL'); // data > data_end
  refuses(p, { data: pkt64(), ctx: u32le(2, 64) }, 'EINVAL'); // metadata not a multiple of 4
  refuses(p, { data: pkt64(), ctx: u32le(0, 64, 0, 0, 0, 3) }, 'EINVAL'); // egress_ifindex
  refuses(p, { data: pkt64(), ctx: u32le(0, 64, 0, 0, 1) }, 'EINVAL'); // rx queue without device
  refuses(p, { data: pkt64(), ctx: u32le(0, 64, 0, 9) }, 'ENODEV');
  refuses(p, { data: pkt64(), ctx: u32le(0, 64, 0, 1, 1) }, 'EINVAL'); // lo has one queue
  refuses(p, { data: pkt64(), ctx: Uint8Array.of(...u32le(0, 64, 0, 1, 0, 0), 1) }, 'E2BIG'); // non-zero past the struct
  refuses(p, { data: pkt64(), flags: 8 }, 'EINVAL');
  assert.equal(p.run({ data: pkt64(), ctx: u32le(0, 64, 0, 1, 0, 0, 0, 0) }).retval, 2);
});

test('xdp: metadata from ctx_in, included in the output, offsets in ctx_out', async () => {
  const p = await load('xdp', 'r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +8)\nr0 = r2\nr0 -= r3\nexit');
  const data = new Uint8Array(72).fill(0xab);
  const res = p.run({ data, ctx: u32le(8, 72) });
  assert.equal(res.retval, 8);
  assert.deepEqual(res.data, data);
  assert.deepEqual(res.ctx, u32le(8, 72, 0, 0, 0, 0));
  // ctx_in's data_end may stop short of the input: the rest becomes fragments, appended on output.
  const short = p.run({ data, ctx: u32le(8, 40) });
  assert.deepEqual(short.data, data);
  assert.deepEqual(short.ctx, u32le(8, 40, 0, 0, 0, 0));
});

test('xdp: xdp_adjust_head grows into the headroom; repeats share the buffer', async () => {
  const p = await load('xdp', 'r2 = -4\ncall 44\nr0 = 2\nexit');
  const res = p.run({ data: pkt64() });
  assert.equal(res.data!.length, 68);
  assert.deepEqual(res.data!.subarray(0, 4), new Uint8Array(4));
  assert.deepEqual(res.data!.subarray(4), pkt64());
  // The kernel runs `repeat` times on one xdp_buff: the head moves 4 bytes per run.
  assert.equal(p.run({ data: pkt64(), repeat: 5 }).data!.length, 84);
});

test('xdp: packets beyond one page are fragments the program does not see', async () => {
  const p = await load('xdp', 'r2 = *(u32 *)(r1 +0)\nr0 = *(u32 *)(r1 +4)\nr0 -= r2\nexit');
  const data = Uint8Array.from({ length: 4000 }, (_, i) => i & 0xff);
  const res = p.run({ data });
  assert.equal(res.retval, 4096 - 256 - 320);
  assert.deepEqual(res.data, data);
});

test('socket_filter: data starts at the network header, Ethernet header zeroed on output', async () => {
  const len = await load('socket_filter', 'r0 = *(u32 *)(r1 +0)\nexit');
  const pkt = eth(0x0800, ip4l4({}, 17, udp(1, 53)));
  const res = len.run({ data: pkt });
  assert.equal(res.retval, pkt.length - 14);
  assert.deepEqual(res.data!.subarray(0, 14), new Uint8Array(14));
  assert.deepEqual(res.data!.subarray(14), pkt.subarray(14));
  const proto = await load('socket_filter', 'r0 = *(u32 *)(r1 +16)\nexit');
  assert.equal(proto.run({ data: pkt }).retval, 0x0008); // htons(ETH_P_IP) read as a u32
  // LD_ABS reads from the network header for socket filters.
  const ldabs = await load('socket_filter', 'r6 = r1\nr0 = *(u8 *)skb[9]\nexit');
  assert.equal(ldabs.run({ data: pkt }).retval, 17);
});

test('sched_cls: data starts at the Ethernet header; pkt_type from the destination MAC', async () => {
  const p = await load('sched_cls', 'r0 = *(u32 *)(r1 +0)\nr2 = *(u32 *)(r1 +4)\nr2 <<= 16\nr0 |= r2\nexit');
  const body = ip4l4({}, 6, new Uint8Array(20));
  const run = (dst: number[]): number => p.run({ data: eth(0x0800, body, { dst }) }).retval;
  const L = 14 + body.length;
  assert.equal(run([0, 0, 0, 0, 0, 0]), L); // PACKET_HOST (loopback's address is all zeros)
  assert.equal(run([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), L | (1 << 16)); // PACKET_BROADCAST
  assert.equal(run([0x01, 0, 0x5e, 0, 0, 1]), L | (2 << 16)); // PACKET_MULTICAST
  assert.equal(run([0x02, 0, 0, 0, 0, 1]), L | (3 << 16)); // PACKET_OTHERHOST
});

test('skb: ctx_in fields the kernel allows round-trip, program writes come back, others are EINVAL', async () => {
  const p = await load('sched_cls', 'r2 = *(u32 *)(r1 +8)\nr2 += 1\n*(u32 *)(r1 +8) = r2\n*(u32 *)(r1 +48) = r2\nr0 = *(u32 *)(r1 +32)\nexit');
  const ctx = new Uint8Array(192);
  const dv = new DataView(ctx.buffer);
  dv.setUint32(8, 41, true); // mark
  dv.setUint32(32, 7, true); // priority
  const res = p.run({ data: pkt64(), ctx });
  assert.equal(res.retval, 7);
  const out = new DataView(res.ctx!.buffer);
  assert.equal(out.getUint32(8, true), 42);
  assert.equal(out.getUint32(48, true), 42);
  assert.equal(out.getUint32(40, true), 1); // ifindex of the device (lo)
  assert.equal(out.getUint32(160, true), 64); // wire_len defaults to the length
  for (const [off, v, errno] of [[0, 1, 'EINVAL'], [16, 8, 'EINVAL'], [76, 1, 'EINVAL'], [40, 7, 'ENODEV'], [160, 10, 'EINVAL']] as const) {
    const bad = new Uint8Array(192);
    new DataView(bad.buffer).setUint32(off, v, true);
    refuses(p, { data: pkt64(), ctx: bad }, errno);
  }
});

test('skb: refused packets (short, truncated IP headers, too large)', async () => {
  const p = await load('socket_filter', 'r0 = 0\nexit');
  refuses(p, { data: new Uint8Array(13) }, 'EINVAL');
  refuses(p, { data: eth(0x0800, new Uint8Array(19)) }, 'EINVAL');
  refuses(p, { data: eth(0x86dd, new Uint8Array(39)) }, 'EINVAL');
  assert.equal(p.run({ data: eth(0x0806, new Uint8Array(2)) }).retval, 0);
  refuses(p, { data: new Uint8Array(4096 - 64 - 320 + 1) }, 'EINVAL');
  refuses(p, { data: pkt64(), cpu: 1 }, 'EINVAL');
});

test('raw_tracepoint: ctx buffer of u64 args; data, repeat and oversized ctx refused', async () => {
  const p = await load('raw_tracepoint', 'r0 = *(u64 *)(r1 +8)\nexit');
  const ctx = new Uint8Array(16);
  ctx[8] = 42;
  const res = p.run({ ctx });
  assert.equal(res.retval, 42);
  assert.equal(res.duration, 0);
  refuses(p, { ctx, repeat: 2 }, 'EINVAL');
  refuses(p, { ctx, data: new Uint8Array(14) }, 'EINVAL');
  refuses(p, { ctx: new Uint8Array(97) }, 'EINVAL');
  refuses(p, { ctx, cpu: 1 }, 'EINVAL');
  // bpf_prog_test_run_raw_tp: shorter than the farthest read (max_ctx_offset 16) is EINVAL; unknown flags are ignored
  refuses(p, { ctx: new Uint8Array(8) }, 'EINVAL');
  refuses(p, {}, 'EINVAL');
  assert.equal(p.run({ ctx, flags: 1 << 5 }).retval, 42);
});

test('syscall: the context is written back; repeat refused', async () => {
  // the kernel refuses a syscall program loaded without BPF_F_SLEEPABLE (libbpf always sets it)
  const p = await rt.loadProgram({ type: 'syscall', sleepable: true, insns: assemble('r2 = *(u32 *)(r1 +0)\nr2 *= 3\n*(u32 *)(r1 +4) = r2\nr0 = 0\nexit') });
  const res = p.run({ ctx: u32le(5, 0) });
  assert.deepEqual(res.ctx, u32le(5, 15));
  refuses(p, { ctx: u32le(5, 0), repeat: 1 }, 'EINVAL');
  refuses(p, { ctx: u32le(5, 0), data: new Uint8Array(20) }, 'EINVAL');
});

test('kprobe and tracepoint: tsbpf runs them on a context buffer (struct pt_regs padded to 168 bytes)', async () => {
  const p = await load('kprobe', 'r0 = *(u64 *)(r1 +112)\nexit');
  const regs = new Uint8Array(8 * 15);
  regs[112] = 9; // pt_regs->di on x86-64
  assert.equal(p.run({ ctx: regs }).retval, 9);
  assert.equal(p.run({}).retval, 0);
  refuses(p, { data: new Uint8Array(14) }, 'EINVAL');
});

test('program types without a test run give ENOTSUPP', async () => {
  const p = await load('perf_event', 'r0 = 0\nexit');
  refuses(p, {}, 'ENOTSUPP');
});

test('flow dissectors: no test run; one that reads flow_keys is refused at load, naming it', async () => {
  const p = await load('flow_dissector', 'r2 = *(u32 *)(r1 +76)\nr0 = 0\nexit');
  refuses(p, { data: new Uint8Array(64) }, 'ENOTSUPP');
  await assert.rejects(load('flow_dissector', 'r6 = *(u64 *)(r1 +144)\n*(u16 *)(r6 +0) = 14\nr0 = 0\nexit'),
    (e: unknown) => (e as { errno?: string }).errno === 'ENOTSUPP' && /flow_keys/.test((e as Error).message));
});

test('raw_tracepoint_writable: verified, refused at load (no writable tracepoint); no test run, as in the kernel', async () => {
  const src = 'r6 = *(u64 *)(r1 +0)\n*(u64 *)(r6 +0) = 1\nr0 = 0\nexit';
  await assert.rejects(load('raw_tracepoint_writable', src),
    (e: unknown) => (e as { errno?: string }).errno === 'ENOTSUPP' && /raw_tracepoint_writable/.test((e as Error).message));
  // the verifier judges first: a write before the buffer is its EACCES, not the runtime's ENOTSUPP
  await assert.rejects(load('raw_tracepoint_writable', 'r6 = *(u64 *)(r1 +0)\n*(u64 *)(r6 -8) = 1\nr0 = 0\nexit'),
    (e: unknown) => (e as { errno?: string }).errno === 'EACCES' && /invalid tracepoint buffer access: off=-8/.test((e as { kernelMessage?: string }).kernelMessage ?? ''));
  // unverified (structural checks only), it loads; BPF_PROG_TEST_RUN has no test_run for the type:
  // a ctx_in would hand the program a buffer nobody sized against its writes
  const p = await unverified.loadProgram({ type: 'raw_tracepoint_writable', insns: assemble(src) });
  refuses(p, { ctx: new Uint8Array(8) }, 'ENOTSUPP');
});

test('sk_reuseport programs load and have no test run', async () => {
  const p = await load('sk_reuseport', 'r2 = *(u32 *)(r1 +32)\nr0 = 1\nexit');
  refuses(p, { data: new Uint8Array(64) }, 'ENOTSUPP');
});

test('struct_ops programs are verified, then refused at load: no kernel ops struct to attach them to', async () => {
  const coll = loadObjectFileSync(join(ROOT, 'test/verifier-corpus/c/struct_ops_cc_read.o'));
  await assert.rejects(rt.load(coll),
    (e: unknown) => (e as { errno?: string }).errno === 'ENOTSUPP' && /struct_ops.*tcp_congestion_ops\.(ssthresh|cong_avoid|undo_cwnd)/.test((e as Error).message));
});

test('struct_ops programs calling the congestion control kfuncs are verified, then refused at load', async () => {
  const coll = loadObjectFileSync(join(ROOT, 'test/verifier-corpus/c/struct_ops_cc_kfuncs.o'));
  await assert.rejects(rt.load(coll), (e: unknown) => (e as { errno?: string }).errno === 'ENOTSUPP' && /struct_ops|tcp_reno|cubictcp|tcp_slow_start|tcp_cong_avoid_ai/.test((e as Error).message));
});

test('data_size_out smaller than the output gives ENOSPC', async () => {
  const p = await load('xdp', 'r0 = 2\nexit');
  refuses(p, { data: pkt64(), dataSizeOut: 10 }, 'ENOSPC');
});

test('invoke: a program run on a context the host built (what hooks use)', async () => {
  const p = await load('xdp', 'r2 = *(u32 *)(r1 +0)\nr0 = *(u32 *)(r1 +4)\nr0 -= r2\nexit');
  const space = rt.space;
  const frame = space.alloc(4096, 4096);
  const ctx = space.alloc(24);
  space.writeU32(ctx, frame + 256);
  space.writeU32(ctx + 4, frame + 256 + 100);
  space.writeU32(ctx + 8, frame + 256);
  const r = p.invoke(ctx, { packet: { kind: 'xdp', ctx, hardStart: frame, frameSize: 4096, tailroom: 320 } });
  assert.equal(r.r0, 100n);
  space.free(frame);
  space.free(ctx);
});

test('BPF_F_TEST_SKB_CHECKSUM_COMPLETE: skb->csum must follow the packet (BPF_F_RECOMPUTE_CSUM), else EBADMSG', async () => {
  const store = (flags: number): Promise<Program> =>
    load('sched_cls', `r6 = r1\nr1 = 0x55aa\n*(u16 *)(r10 -2) = r1\nr1 = r6\nr2 = 31\nr3 = r10\nr3 += -2\nr4 = 2\nr5 = ${flags}\ncall 9\nr0 = 0\nexit`);
  const data = eth(0x0800, ip4l4({}, 17, udp(1, 2)));
  const ok = await store(1);
  const res = ok.run({ data, flags: 4 });
  assert.equal(res.data![31], 0xaa);
  assert.equal(res.data![32], 0x55);
  refuses(await store(0), { data, flags: 4 }, 'EBADMSG');
  assert.equal((await store(0)).run({ data }).retval, 0);
});

/**
 * A counter in an array map: every run adds 1 and returns the count (r0 of
 * the last run is what a repeat reports). With `redirect`, the first run
 * calls bpf_redirect(1, 0) and the later ones do not.
 */
function counting(mapId: number, redirect = false): Insn[] {
  return mapRefs(
    assemble(`${LOOKUP_KEY0}
    if r0 == 0 goto out
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1
    r6 = *(u64 *)(r0 + 0)
    ${redirect ? 'if r6 != 1 goto done\n    r1 = 1\n    r2 = 0\n    call 23' : ''}
  done:
    r0 = r6
    exit
  out:
    r0 = 0
    exit`),
    mapId,
  );
}

test('repeat: the JIT runs the repetitions in its own loop; every one counts, the last r0 is reported', async () => {
  for (const engine of ['jit', 'interpreter'] as const) {
    const r = new Runtime({ engine });
    const counter = r.createMap({ name: 'n', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, pinning: 'none' });
    const p = await r.loadProgram({ type: 'xdp', insns: counting(counter.id) });
    const exe = p.executable;
    let inEngine = 0;
    const own = exe.runRepeat?.bind(exe);
    if (own) exe.runRepeat = (...a) => (inEngine++, own(...a));
    assert.equal(p.run({ data: pkt64(), repeat: 1000 }).retval, 1000, engine);
    assert.equal(p.run({ data: pkt64(), repeat: 1 }).retval, 1001, engine);
    assert.equal(new DataView((counter.get(0) as Uint8Array).buffer).getBigUint64(0, true), 1001n, `${engine}: every repetition ran`);
    assert.equal(inEngine, engine === 'jit' ? 2 : 0, `${engine}: the engine's loop ran the repetitions`);
    // A deadline is charged per run: the per-run loop, with the same result.
    assert.equal(p.run({ data: pkt64(), repeat: 10, deadline: { instructions: 1e6 } }).retval, 1011, engine);
    assert.equal(inEngine, engine === 'jit' ? 2 : 0);
    r.close();
  }
});

test('repeat: a program that redirects runs one repetition at a time (each starts without the last one\'s redirect)', async () => {
  const r = new Runtime();
  const counter = r.createMap({ name: 'n', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, pinning: 'none' });
  const p = await r.loadProgram({ type: 'xdp', insns: counting(counter.id, true) });
  let inEngine = 0;
  const own = p.executable.runRepeat?.bind(p.executable);
  if (own) p.executable.runRepeat = (...a) => (inEngine++, own(...a));
  const res = p.run({ data: pkt64(), repeat: 3 });
  assert.equal(res.retval, 3);
  assert.equal(res.redirect, undefined, 'only the first run redirected');
  assert.equal(p.run({ data: pkt64() }).retval, 4);
  assert.equal(inEngine, 0);
  r.close();
});
