/**
 * XDP on real TAP devices (Linux, root): three network namespaces, each with
 * one TAP device whose other end this process holds.
 *
 *   ns A (10.77.0.1, tapA) --wire--> [XDP NIC on tapA] --PASS--> tapB (ns B, 10.77.0.2)
 *                                         |  TX: back to A
 *                                         '--REDIRECT (devmap / bpf_redirect)--> tapC (ns C, 10.77.0.3 and .4)
 *
 * B's transmissions go out through the NIC back to A (tapB is the stack
 * behind the NIC). Neighbours are static (`nud permanent`) and IPv6 is off,
 * so the only frames on the wire are the test's own UDP datagrams. UDP
 * senders and listeners are Node processes run with `ip netns exec`. Every
 * namespace and device is removed in `after`, also on failure.
 * Skips with the reason when not Linux, not root, or ip/clang-19/tun is missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { which } from './support/tools.js';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BIN, MULTIARCH_INCLUDE, ROOT } from './paths.js';
import { TapDevice } from '../src/hooks/packet/tap.js';
import { tapXdp, type TapXdpHook } from '../src/hooks/packet/tap-xdp.js';
import { XDP_DROP, XDP_PASS, XDP_REDIRECT, XDP_TX } from '../src/hooks/packet/xdp.js';
import { Runtime, type Collection } from '../src/runtime/index.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { TsbpfError } from '../src/errors.js';

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'TAP devices are Linux only';
  if (process.getuid?.() !== 0) return 'not root (creating TAP devices and namespaces needs CAP_NET_ADMIN)';
  if (!which('ip')) return 'ip (iproute2) is not installed';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  if (!which('clang-19')) return 'clang-19 is not installed';
  if (!which('perl') && !which('cc')) return 'neither perl nor cc is installed (the TUNSETIFF helper needs one)';
  return undefined;
}
const SKIP = skipReason();
if (SKIP) console.log(`# hooks-tap: skipped: ${SKIP}`);

const tag = `${process.pid % 100000}`;
const NS = { a: `tsbpf-a-${tag}`, b: `tsbpf-b-${tag}`, c: `tsbpf-c-${tag}`, d: `tsbpf-d-${tag}`, e: `tsbpf-e-${tag}` };
const IF = { a: `tsbA${tag}`, b: `tsbB${tag}`, c: `tsbC${tag}` };
const NET = '10.77.0';

let tmp = '';
let script = '';
let obj = '';
let rt: Runtime | undefined;
let coll: Collection | undefined;
let tapA: TapDevice | undefined;
let tapB: TapDevice | undefined;
let tapC: TapDevice | undefined;
let nic: TapXdpHook | undefined;
const children = new Set<ChildProcess>();

/** The UDP helper run inside a namespace: `listen PORT...` (prints each datagram, acks it) or `send ADDR PORT MSG [--wait]`. */
const UDP_SCRIPT = `
const dgram = require('node:dgram');
const [mode, ...a] = process.argv.slice(2);
if (mode === 'listen') {
  let n = 0;
  for (const port of a) {
    const s = dgram.createSocket('udp4');
    s.on('message', (m, r) => {
      console.log(JSON.stringify({ port: Number(port), msg: m.toString(), from: r.address }));
      s.send('ack:' + m.toString(), r.port, r.address);
    });
    s.bind(Number(port), () => { if (++n === a.length) console.log('ready'); });
  }
} else {
  const [addr, port, msg, wait] = a;
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => { console.log(JSON.stringify({ msg: m.toString(), from: r.address, port: r.port })); process.exit(0); });
  s.bind(0, () => s.send(msg, Number(port), addr, (e) => {
    if (e) { console.log('error ' + e.message); process.exit(1); }
    if (!wait) process.exit(0);
    setTimeout(() => { console.log('timeout'); process.exit(2); }, 10000);
  }));
}
`;

function sh(args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}
function inNs(ns: string, cmd: string): void {
  execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { stdio: 'pipe' });
}

/** A listener in `ns`: the datagrams it got, and a way to wait for one. */
class Listener {
  readonly got: Array<{ port: number; msg: string; from: string }> = [];
  private waiters: Array<() => void> = [];
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  constructor(ns: string, ports: number[]) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, 'listen', ...ports.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(this.child);
    let onReady: () => void;
    this.ready = new Promise((r) => (onReady = r));
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      if (l === 'ready') return onReady();
      this.got.push(JSON.parse(l) as { port: number; msg: string; from: string });
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async waitFor(msg: string): Promise<void> {
    const deadline = Date.now() + 10000;
    while (!this.got.some((g) => g.msg === msg)) {
      if (Date.now() > deadline) throw new Error(`no datagram "${msg}" arrived (got ${JSON.stringify(this.got)})`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
  stop(): void {
    this.child.kill();
    children.delete(this.child);
  }
}

/** Send one datagram from namespace A; with `wait`, the first answer it gets (or 'timeout'). */
function sendFromA(addr: string, port: number, msg: string, wait = false): Promise<string> {
  return sendFrom(NS.a, addr, port, msg, wait);
}
function sendFrom(ns: string, addr: string, port: number, msg: string, wait = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, 'send', addr, String(port), msg, ...(wait ? ['wait'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      children.delete(child);
      resolve(out.trim());
    });
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function cleanup(): void {
  for (const c of children) c.kill();
  children.clear();
  nic?.close();
  for (const t of [tapA, tapB, tapC]) t?.close();
  coll?.close();
  rt?.close();
  for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

before(async () => {
  if (SKIP) return;
  try {
    tmp = mkdtempSync(join(tmpdir(), 'tsbpf-tap-'));
    script = join(tmp, 'udp.cjs');
    writeFileSync(script, UDP_SCRIPT);
    // Namespaces an earlier, killed run left behind (its pid is gone).
    for (const m of spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.matchAll(/^(tsbpf-[a-e]-(\d+))/gm)) {
      let alive = true;
      try {
        process.kill(Number(m[2]), 0);
      } catch {
        alive = false;
      }
      if (!alive) spawnSync('ip', ['netns', 'del', m[1]!], { stdio: 'ignore' });
    }
    for (const ns of Object.values(NS)) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      sh(['netns', 'add', ns]);
      // IPv6 off: no router solicitations or MLD reports on the wire.
      spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'], { stdio: 'ignore' });
    }
    // tapB reads by polling, the others through epoll: both ways are exercised.
    tapA = TapDevice.open({ name: IF.a, netns: NS.a });
    tapB = TapDevice.open({ name: IF.b, netns: NS.b, io: 'poll' });
    tapC = TapDevice.open({ name: IF.c, netns: NS.c });
    const cfg: Array<[string, TapDevice, string[]]> = [
      [NS.a, tapA, [`${NET}.1/24`]],
      [NS.b, tapB, [`${NET}.2/24`]],
      [NS.c, tapC, [`${NET}.3/24`, `${NET}.4/24`]],
    ];
    for (const [ns, t, addrs] of cfg) {
      for (const a of addrs) sh(['-n', ns, 'addr', 'add', a, 'dev', t.name]);
      // Jumbo frames: longer than an RX page's linear part, so they take the fragment path.
      sh(['-n', ns, 'link', 'set', 'dev', t.name, 'mtu', '9000']);
      sh(['-n', ns, 'link', 'set', 'dev', t.name, 'up']);
    }
    const neigh = (ns: string, dev: string, ip: string, mac: string): void => sh(['-n', ns, 'neigh', 'replace', ip, 'lladdr', mac, 'dev', dev, 'nud', 'permanent']);
    neigh(NS.a, IF.a, `${NET}.2`, tapB.mac);
    neigh(NS.a, IF.a, `${NET}.3`, tapC.mac);
    neigh(NS.a, IF.a, `${NET}.4`, tapC.mac);
    neigh(NS.b, IF.b, `${NET}.1`, tapA.mac);
    neigh(NS.c, IF.c, `${NET}.1`, tapA.mac);

    obj = join(tmp, 'xdp_tap.o');
    execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', MULTIARCH_INCLUDE, '-c', join(ROOT, 'test/tap-progs/xdp_tap.c'), '-o', obj], { stdio: 'pipe' });
    rt = new Runtime({ devices: [tapA, tapB, tapC] });
    coll = await loadCollectionFile(obj, rt);
    nic = tapXdp(tapA, { pass: tapB });
  } catch (e) {
    cleanup();
    throw e;
  }
});

after(() => {
  if (!SKIP) cleanup();
  // Nothing of ours is left behind.
  for (const ns of Object.values(NS)) assert.ok(!spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(ns), `namespace ${ns} left behind`);
});

const seen = (port: number): bigint => {
  const v = coll!.map('seen').get(port & 0xff) as Uint8Array;
  return new DataView(v.buffer, v.byteOffset).getBigUint64(0, true);
};

test('TAP devices: created by TUNSETIFF through the helper, moved into their namespaces', { skip: SKIP }, () => {
  for (const [t, ns] of [[tapA!, NS.a], [tapB!, NS.b], [tapC!, NS.c]] as const) {
    const j = JSON.parse(execFileSync('ip', ['-n', ns, '-j', '-d', 'link', 'show', 'dev', t.name], { encoding: 'utf8' })) as Array<{ ifindex: number; address: string; linkinfo?: { info_kind?: string; info_data?: { type?: string; pi?: boolean } } }>;
    assert.equal(j[0]!.ifindex, t.ifindex);
    assert.equal(j[0]!.address, t.mac);
    assert.equal(j[0]!.linkinfo?.info_kind, 'tun');
    assert.equal(j[0]!.linkinfo?.info_data?.type, 'tap');
    assert.equal(TapDevice.byIfindex(t.ifindex), t);
  }
  assert.equal(tapB!.io, 'poll');
  assert.equal(tapA!.io, 'event');
});

test('no program: the NIC passes frames to the host side, and the host answers through it', { skip: SKIP }, async () => {
  const l = new Listener(NS.b, [9001]);
  try {
    await l.ready;
    const passed = nic!.stats.actions[XDP_PASS]!;
    const reply = await sendFromA(`${NET}.2`, 9001, 'wire-1', true);
    await l.waitFor('wire-1');
    assert.deepEqual(JSON.parse(reply), { msg: 'ack:wire-1', from: `${NET}.2`, port: 9001 });
    assert.equal(l.got.find((g) => g.msg === 'wire-1')!.from, `${NET}.1`);
    assert.ok(nic!.stats.actions[XDP_PASS]! > passed);
  } finally {
    l.stop();
  }
});

test('XDP_PASS: the program sees the frame (ingress ifindex, UDP port) and it reaches namespace B', { skip: SKIP }, async () => {
  const link = coll!.program('xdp_pass').attach(nic!);
  const l = new Listener(NS.b, [9011]);
  try {
    await l.ready;
    const before = seen(9011);
    const reply = await sendFromA(`${NET}.2`, 9011, 'pass-1', true);
    await l.waitFor('pass-1');
    assert.equal(JSON.parse(reply).msg, 'ack:pass-1');
    assert.equal(seen(9011), before + 1n, 'the program counted the datagram once');
    // A 5000-byte datagram: a 5042-byte frame, past the 3520 bytes of an RX page's linear part.
    const big = `big-${'x'.repeat(5000)}`;
    const bigReply = await sendFromA(`${NET}.2`, 9011, big, true);
    await l.waitFor(big);
    assert.equal(JSON.parse(bigReply).msg, `ack:${big}`);
    assert.equal(seen(9011), before + 2n);
    assert.ok(link.runs >= 2);
    assert.equal(link.errors, 0);
  } finally {
    link.detach();
    l.stop();
  }
});

test('XDP_PASS into a real stack: B routes the datagram over a veth pair to namespace E, and the answer comes back through the NIC', { skip: SKIP }, async () => {
  // B forwards between the NIC's host side (tapB) and a veth pair to E.
  const vb = `tsbV${tag}`;
  const ve = `tsbW${tag}`;
  sh(['-n', NS.b, 'link', 'add', vb, 'type', 'veth', 'peer', 'name', ve, 'netns', NS.e]);
  inNs(NS.b, 'echo 1 > /proc/sys/net/ipv4/ip_forward');
  sh(['-n', NS.b, 'addr', 'add', '10.80.0.1/24', 'dev', vb]);
  sh(['-n', NS.e, 'addr', 'add', '10.80.0.2/24', 'dev', ve]);
  sh(['-n', NS.b, 'link', 'set', vb, 'up']);
  sh(['-n', NS.e, 'link', 'set', ve, 'up']);
  sh(['-n', NS.e, 'route', 'add', 'default', 'via', '10.80.0.1']);
  sh(['-n', NS.a, 'route', 'replace', '10.80.0.0/24', 'via', `${NET}.2`]);
  const link = coll!.program('xdp_pass').attach(nic!);
  const l = new Listener(NS.e, [9017]);
  try {
    await l.ready;
    const before = seen(9017);
    const reply = await sendFromA('10.80.0.2', 9017, 'routed-1', true);
    await l.waitFor('routed-1');
    assert.deepEqual(JSON.parse(reply), { msg: 'ack:routed-1', from: '10.80.0.2', port: 9017 });
    assert.equal(l.got.find((g) => g.msg === 'routed-1')!.from, `${NET}.1`);
    assert.equal(seen(9017), before + 1n);
  } finally {
    link.detach();
    l.stop();
    spawnSync('ip', ['-n', NS.b, 'link', 'del', vb], { stdio: 'ignore' });
  }
  assert.ok(spawnSync('ip', ['-n', NS.e, 'link', 'show', ve]).status !== 0, 'deleting one end removed the pair');
});

test('XDP_DROP: the datagram never reaches B; one sent after the program is gone does', { skip: SKIP }, async () => {
  const l = new Listener(NS.b, [9012]);
  try {
    await l.ready;
    const drop = coll!.program('xdp_drop_udp').attach(nic!);
    const dropped = nic!.stats.actions[XDP_DROP]!;
    const before = seen(9012);
    await sendFromA(`${NET}.2`, 9012, 'drop-1');
    await until(() => seen(9012) === before + 1n && nic!.stats.actions[XDP_DROP]! === dropped + 1, 'the drop');
    drop.detach();
    const pass = coll!.program('xdp_pass').attach(nic!);
    try {
      await sendFromA(`${NET}.2`, 9012, 'after-1');
      // The wire is in order: once "after-1" is in, "drop-1" would have been too.
      await l.waitFor('after-1');
      assert.deepEqual(l.got.map((g) => g.msg), ['after-1']);
    } finally {
      pass.detach();
    }
  } finally {
    l.stop();
  }
});

test('XDP_TX: an echo program answers namespace A itself; B never sees the datagram', { skip: SKIP }, async () => {
  const l = new Listener(NS.b, [7]);
  try {
    await l.ready;
    const link = coll!.program('xdp_echo').attach(nic!);
    try {
      const tx = nic!.stats.actions[XDP_TX]!;
      const reply = await sendFromA(`${NET}.2`, 7, 'echo-1', true);
      // The answer comes from the program, not from B's listener (which would say "ack:echo-1").
      assert.deepEqual(JSON.parse(reply), { msg: 'echo-1', from: `${NET}.2`, port: 7 });
      assert.equal(nic!.stats.actions[XDP_TX], tx + 1);
    } finally {
      link.detach();
    }
    const reply = await sendFromA(`${NET}.2`, 7, 'after-7', true);
    assert.equal(JSON.parse(reply).msg, 'ack:after-7');
    // In order on the wire: B got "after-7" and never "echo-1".
    assert.deepEqual(l.got.map((g) => g.msg), ['after-7']);
  } finally {
    l.stop();
  }
});

test('XDP_REDIRECT: through a devmap and through bpf_redirect to the TAP in namespace C', { skip: SKIP }, async () => {
  const txPort = coll!.map('tx_port');
  txPort.set(0, tapC!.ifindex);
  coll!.map('cfg').set(0, tapC!.ifindex);
  const link = coll!.program('xdp_router').attach(nic!);
  const l = new Listener(NS.c, [9013, 9014]);
  try {
    await l.ready;
    const redirected = nic!.stats.actions[XDP_REDIRECT]!;
    await sendFromA(`${NET}.3`, 9013, 'devmap-1');
    await l.waitFor('devmap-1');
    assert.equal(nic!.stats.actions[XDP_REDIRECT], redirected + 1);
    await sendFromA(`${NET}.4`, 9014, 'ifindex-1');
    await l.waitFor('ifindex-1');
    assert.equal(nic!.stats.actions[XDP_REDIRECT], redirected + 2);
    // An empty devmap slot: bpf_redirect_map returns its flags' action (XDP_DROP here).
    txPort.delete(0);
    const dropped = nic!.stats.actions[XDP_DROP]!;
    await sendFromA(`${NET}.3`, 9013, 'devmap-2');
    await until(() => nic!.stats.actions[XDP_DROP] === dropped + 1, 'the drop of devmap-2');
    assert.equal(nic!.stats.redirectErrors, 0);
    assert.ok(!l.got.some((g) => g.msg === 'devmap-2'));
  } finally {
    link.detach();
    l.stop();
  }
});

test('XDP_REDIRECT with BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS: a copy to every devmap device but the ingress one', { skip: SKIP }, async () => {
  const txPort = coll!.map('tx_port');
  txPort.set(0, tapA!.ifindex);
  txPort.set(1, tapB!.ifindex);
  txPort.set(2, tapC!.ifindex);
  const link = coll!.program('xdp_broadcast').attach(nic!);
  const l = new Listener(NS.c, [9015]);
  try {
    await l.ready;
    const [toA, toB, toC] = [tapA!.stats.txFrames, tapB!.stats.txFrames, tapC!.stats.txFrames];
    await sendFromA(`${NET}.3`, 9015, 'bcast-1');
    await l.waitFor('bcast-1');
    await until(() => tapB!.stats.txFrames === toB + 1, 'the copy to B');
    assert.equal(tapC!.stats.txFrames, toC + 1);
    assert.equal(tapA!.stats.txFrames, toA, 'the ingress device is left out');
    assert.equal(nic!.stats.redirectErrors, 0);
  } finally {
    link.detach();
    l.stop();
    for (const k of [0, 1, 2]) txPort.delete(k);
  }
});

test('XDP_ABORTED and unknown verdicts are exceptions; XDP_PASS can go to a callback', { skip: SKIP }, async () => {
  const link = coll!.program('xdp_verdict').attach(nic!);
  const frames: Uint8Array[] = [];
  const payload = (f: Uint8Array): string => Buffer.from(f.subarray(42)).toString();
  try {
    const cfg = coll!.map('cfg');
    const before = { ...nic!.stats, actions: [...nic!.stats.actions] };
    cfg.set(1, 0); // XDP_ABORTED
    await sendFromA(`${NET}.2`, 9016, 'aborted-1');
    await until(() => seen(9016) >= 1n, 'the first run');
    cfg.set(1, 7); // not an action: bpf_warn_invalid_xdp_action, then dropped
    await sendFromA(`${NET}.2`, 9016, 'invalid-1');
    await until(() => seen(9016) >= 2n, 'the second run');
    assert.equal(nic!.stats.exceptions, before.exceptions + 2);
    assert.equal(nic!.stats.actions[0], before.actions[0]! + 2);
    // The stack behind the NIC as a callback: it gets the frame as the program left it.
    nic!.pass = (f) => frames.push(f);
    cfg.set(1, XDP_PASS);
    await sendFromA(`${NET}.2`, 9016, 'to-callback');
    await until(() => frames.some((f) => payload(f) === 'to-callback'), 'the callback');
    const f = frames.find((x) => payload(x) === 'to-callback')!;
    assert.equal(Buffer.from(f.subarray(0, 6)).toString('hex'), tapB!.mac.replace(/:/g, ''), 'destination MAC: the host side');
    assert.equal(Buffer.from(f.subarray(6, 12)).toString('hex'), tapA!.mac.replace(/:/g, ''));
    assert.equal((f[12]! << 8) | f[13]!, 0x0800);
  } finally {
    nic!.pass = tapB;
    link.detach();
  }
});

test('TapDevice: without CAP_NET_ADMIN the error is EPERM, and says why', { skip: SKIP }, (t) => {
  const mod = join(ROOT, 'dist/src/hooks/packet/tap.js');
  const code = `import(${JSON.stringify(mod)}).then((m) => { try { m.TapDevice.open({ name: 'tsbnope' }); console.log(JSON.stringify({ ok: true })); } catch (e) { console.log(JSON.stringify({ errno: e.errno, message: e.message })); } }, (e) => console.log(JSON.stringify({ importError: String(e) })))`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { uid: 65534, gid: 65534, cwd: '/', encoding: 'utf8' });
  const out = JSON.parse(r.stdout.trim() || '{}') as { ok?: boolean; errno?: string; message?: string; importError?: string };
  if (out.importError) {
    // The checkout is not readable by nobody (a clone under /root): nothing to learn here.
    t.skip(`user nobody cannot read ${mod}`);
    return;
  }
  assert.equal(out.errno, 'EPERM', r.stdout + r.stderr);
  assert.match(out.message!, /tun|CAP_NET_ADMIN/);
});

test('TapDevice: bad names are refused before anything is created; the C helper creates one too', { skip: SKIP }, (tc) => {
  assert.throws(() => TapDevice.open({ name: 'a name' }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  assert.throws(() => TapDevice.open({ name: 'x'.repeat(16) }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  if (!which('cc') && !which('gcc') && !which('clang')) {
    tc.skip('the C helper needs a C compiler (cc, gcc or clang)');
    return;
  }
  const name = `tsbD${tag}`;
  const t = TapDevice.open({ name, helper: 'c' });
  try {
    assert.ok(existsSync(`/sys/class/net/${name}`));
    assert.equal(t.name, name);
  } finally {
    t.close();
  }
  assert.ok(!existsSync(`/sys/class/net/${name}`), 'closing the fd removed the device');
});

test('tsbpf xdp --tap: the CLI runs a program on a TAP in a namespace and counts the frames', { skip: SKIP }, async () => {
  const name = `tsbE${tag}`;
  const cli = spawn(process.execPath, [BIN, 'xdp', obj, 'xdp_drop_udp', '--tap', name, '--netns', NS.d, '--frames', '2', '-j'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(cli);
  let out = '';
  let err = '';
  cli.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  cli.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => cli.on('close', (code) => r(code)));
  try {
    // The CLI creates the device, moves it into NS.d and brings it up.
    await until(() => spawnSync('ip', ['-n', NS.d, '-j', 'link', 'show', 'dev', name], { encoding: 'utf8' }).stdout.includes('"UP"') || cli.exitCode !== null, `${name} up in ${NS.d}`);
    assert.equal(cli.exitCode, null, `the CLI exited early: ${err}`);
    sh(['-n', NS.d, 'addr', 'add', '10.78.0.1/24', 'dev', name]);
    sh(['-n', NS.d, 'neigh', 'replace', '10.78.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', name, 'nud', 'permanent']);
    await sendFrom(NS.d, '10.78.0.2', 9020, 'cli-1');
    await sendFrom(NS.d, '10.78.0.2', 9020, 'cli-2');
    assert.equal(await exited, 0, err);
    const j = JSON.parse(out) as { device: string; frames: number; actions: Record<string, number> };
    assert.equal(j.device, name);
    assert.equal(j.frames, 2);
    assert.equal(j.actions.XDP_DROP, 2);
    assert.ok(!spawnSync('ip', ['-n', NS.d, 'link', 'show', 'dev', name]).stdout.length, 'the CLI removed its device');
  } finally {
    cli.kill();
    children.delete(cli);
  }
});
