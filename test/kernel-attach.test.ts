/**
 * Attaching to the kernel's hooks and reading what it sends, as root:
 * test/kernel-progs/attach.c (built here with clang-19) has one counting
 * program per kind of hook; each is attached with KernelRuntime, the event
 * is made to happen (a system call, a libc call, packets over a veth pair
 * into a network namespace, a datagram to a filtered socket), and its
 * counter must move; after detach it must stand still. The ring buffer and
 * perf buffer are read from tracer_ringbuf.o's tracepoint and kprobe, fired
 * by real openat() calls. Every link, namespace and pin is undone in
 * `finally`, whatever failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Cleanup, kernelSkip, which } from './kernel-support.js';
import { FIXTURES, ROOT } from './paths.js';
import { loadObjectFile } from '../src/object/file.js';
import { readObject } from '../src/object/reader.js';
import { KernelRuntime, KernelRingBufReader, KernelPerfReader, TracePrintkReader, type KernelCollection, type KernelLink } from '../src/kernel/index.js';
import { ids, fdById } from '../src/kernel/info.js';
import type { Sys } from '../src/kernel/ffi.js';
import type { CollectionSpec } from '../src/object/spec.js';
import type { TsbpfError } from '../src/errors.js';

const SOURCE = join(ROOT, 'test/kernel-progs/attach.c');
const HIT = { raw_tp: 0, tp_btf: 1, fentry: 2, kretprobe: 3, uprobe: 4, xdp: 5, tcx: 6, cgroup: 7, socket: 8, tracepoint: 9, fexit: 10, perf_event: 11, lsm: 12, fmod_ret: 13 } as const;

async function skipReason(): Promise<string | undefined> {
  const k = await kernelSkip();
  if (k) return k;
  if (!which('clang-19')) return 'clang-19 is not installed';
  return undefined;
}

let built: CollectionSpec | undefined;
/** attach.c, built once, with target_pid set to this process in .rodata. */
function attachSpec(): CollectionSpec {
  if (!built) {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kattach-'));
    try {
      execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', SOURCE, '-o', join(dir, 'attach.o')], { stdio: 'pipe' });
      built = readObject(new Uint8Array(readFileSync(join(dir, 'attach.o'))), { name: 'attach' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const spec = built;
  const ro = [...spec.maps.values()].find((m) => m.section === '.rodata')!;
  // target_pid's place in .rodata, from the DATASEC (the format strings of bpf_printk live there too)
  const ds = spec.btf!.typeByName('.rodata', 'datasec');
  const at = ds && ds.kind === 'datasec' ? ds.vars.find((v) => spec.btf!.typeById(v.typeId).name === 'target_pid')?.offset : undefined;
  assert.ok(at !== undefined, 'target_pid in .rodata');
  const c0 = ro.contents?.[0];
  const v = c0 && 'value' in c0 ? c0.value.slice() : new Uint8Array(ro.valueSize);
  new DataView(v.buffer).setUint32(at, process.pid, true);
  ro.contents = [{ key: new Uint8Array(4), value: v }];
  return spec;
}

const count = (c: KernelCollection, i: number): bigint => {
  const v = c.map('hits').get(i) as Uint8Array;
  return new DataView(v.buffer, v.byteOffset).getBigUint64(0, true);
};

/** Open and close a file: an openat() system call from this process. */
function openat(): void {
  closeSync(openSync('/proc/self/stat', 'r'));
}

/** A link's id is in the kernel's list while attached and gone after detach. */
function linkIds(): Set<number> {
  return new Set(ids(sysRef!, 'link'));
}
let sysRef: Sys | undefined;

test('kernel attach: each kind of hook fires its program, and detach stops it', { timeout: 120_000 }, async (t) => {
  const why = await skipReason();
  if (why) return t.skip(why);
  const rt = new KernelRuntime();
  sysRef = await rt.sys();
  const undo = new Cleanup();
  try {
    /** load the one program, attach, fire, check the counter moved and the link is listed, detach, fire, check it did not */
    const check = async (what: keyof typeof HIT, attach: (c: KernelCollection) => KernelLink, fire: () => void | Promise<void>): Promise<void> => {
      const name = `on_${what}`;
      let c: KernelCollection;
      try {
        c = await rt.load(attachSpec(), { programs: [name] });
      } catch (e) {
        // kernels without BPF trampolines (no ftrace direct calls, or locked down) refuse fentry/fexit/fmod_ret/lsm before verifying
        if ((what === 'fentry' || what === 'fexit' || what === 'fmod_ret' || what === 'lsm') && (e as TsbpfError).errno === 'EPERM') return void t.diagnostic(`${what} not exercised: ${(e as Error).message}`);
        throw e;
      }
      undo.add(() => c.close());
      if (what === 'kretprobe' && !existsSync('/sys/bus/event_source/devices/kprobe')) {
        assert.throws(() => attach(c), (e: TsbpfError) => e.errno === 'ENOTSUPP' && /kprobe PMU/.test(e.message));
        return void t.diagnostic('kretprobe not exercised: this kernel has no kprobes (CONFIG_KPROBES)');
      }
      const l = attach(c);
      undo.add(() => l.detach());
      const before = count(c, HIT[what]);
      await fire();
      const after = count(c, HIT[what]);
      assert.ok(after > before, `${what}: the program ran (${before} -> ${after})`);
      if (l.fd >= 0) {
        const info = l.info()!;
        assert.ok(linkIds().has(info.id), `${what}: link ${info.id} is listed`);
        assert.equal(info.progId, c.program(name).id, `${what}: link names the program`);
      }
      l.detach();
      const settled = count(c, HIT[what]);
      await fire();
      assert.equal(count(c, HIT[what]), settled, `${what}: detached, the program no longer runs`);
      c.close();
    };
    await check('raw_tp', (c) => c.program('on_raw_tp').attach(), () => openat());
    await check('tp_btf', (c) => c.program('on_tp_btf').attach(), () => openat());
    await check('fentry', (c) => c.program('on_fentry').attach(), () => openat());
    await check('fexit', (c) => c.program('on_fexit').attach(), () => openat());
    await check('fmod_ret', (c) => c.program('on_fmod_ret').attach(), () => openat());
    await check('lsm', (c) => c.program('on_lsm').attach(), () => openat());
    await check('kretprobe', (c) => c.program('on_kretprobe').attach(), () => openat());
    await check('tracepoint', (c) => c.program('on_tracepoint').attach(), () => void process.getuid!());
    // perf-event sampling: the software cpu-clock on every CPU at 1 kHz, while this thread keeps a CPU busy
    const busy = (): void => {
      const end = Date.now() + 100;
      while (Date.now() < end);
    };
    await check('perf_event', (c) => c.program('on_perf_event').attach({ perfEvent: { frequency: 1000 } }), busy);
    // uprobe on libc's getuid, which process.getuid() calls
    const libc = readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5]).find((p) => p && /\/libc\.so\.6$/.test(p));
    assert.ok(libc, 'libc is mapped');
    await check('uprobe', (c) => c.program('on_uprobe').attach({ uprobe: libc, symbol: 'getuid' }), () => void process.getuid!());
    // a socket filter on a UDP socket of this process
    const sock = createSocket('udp4');
    undo.add(() => sock.close());
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
    const port = sock.address().port;
    const send = async (): Promise<void> => {
      const tx = createSocket('udp4');
      await new Promise<void>((res, rej) => tx.send('ping', port, '127.0.0.1', (e) => (e ? rej(e) : res())));
      tx.close();
    };
    await check('socket', (c) => c.program('on_socket').attach({ socket: sock as never }), async () => {
      const got = once(sock, 'message');
      await send();
      await got;
    });
    const c = await rt.load(attachSpec(), { programs: ['on_xdp'] });
    undo.add(() => c.close());
    const auto = c.program('on_xdp');
    assert.throws(() => auto.attach(), (e: Error & { errno?: string }) => e.errno === 'EINVAL' && /names no hook/.test(e.message));
  } finally {
    undo.run();
    rt.close();
  }
});

test('kernel attach: XDP and tcx on a veth pair, cgroup_skb on the cgroup v2 root', { timeout: 120_000 }, async (t) => {
  const why = (await skipReason()) ?? (which('ip') ? undefined : 'iproute2 (ip) is not installed');
  if (why) return t.skip(why);
  const rt = new KernelRuntime();
  sysRef = await rt.sys();
  const undo = new Cleanup();
  const ns = `tsbpfk${process.pid}`;
  const dev = `vk0${process.pid % 100000}`;
  const peer = `vk1${process.pid % 100000}`;
  // 10.202.X.Y/30 from the pid, so concurrent runs do not collide
  const net = `10.202.${(process.pid >> 6) & 0xff}.${(process.pid & 0x3f) * 4}`;
  const [a, b, c3] = net.split('.').slice(0, 3);
  const base = Number(net.split('.')[3]);
  const here = `${a}.${b}.${c3}.${base + 1}`;
  const there = `${a}.${b}.${c3}.${base + 2}`;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    undo.add(() => execFileSync('ip', ['netns', 'del', ns]));
    execFileSync('ip', ['link', 'add', dev, 'type', 'veth', 'peer', 'name', peer, 'netns', ns]);
    undo.add(() => execFileSync('ip', ['link', 'del', dev]));
    execFileSync('ip', ['addr', 'add', `${here}/30`, 'dev', dev]);
    execFileSync('ip', ['link', 'set', dev, 'up']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', `${there}/30`, 'dev', peer]);
    execFileSync('ip', ['-n', ns, 'link', 'set', peer, 'up']);
    const c = await rt.load(attachSpec(), { programs: ['on_xdp', 'on_tcx', 'on_cgroup'] });
    undo.add(() => c.close());
    // a datagram into the namespace: ARP and the ICMP port-unreachable come back in on `dev`
    const traffic = async (): Promise<void> => {
      const tx = createSocket('udp4');
      for (let i = 0; i < 3; i++) await new Promise<void>((res) => tx.send('x', 9, there, () => res()));
      await new Promise((r) => setTimeout(r, 200));
      tx.close();
    };
    const hits = (i: number): bigint => count(c, i);
    for (const [what, attach] of [
      ['xdp', () => c.program('on_xdp').attach({ xdp: dev, mode: 'skb' })],
      ['tcx', () => c.program('on_tcx').attach({ tcx: dev, direction: 'ingress' })],
    ] as const) {
      const l = attach();
      undo.add(() => l.detach());
      const info = l.info()!;
      assert.equal(info.type, what, `${what}: link type`);
      assert.equal(Number(info.details.ifindex), (await rt.sys()).ifNameToIndex(dev), `${what}: on ${dev}`);
      const before = hits(HIT[what]);
      await traffic();
      assert.ok(hits(HIT[what]) > before, `${what}: packets were seen`);
      l.detach();
      assert.ok(!linkIds().has(info.id), `${what}: link gone after detach`);
    }
    const cg = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2')?.[1];
    if (!cg) return t.diagnostic('no cgroup v2 mount: cgroup attach not exercised');
    const l = c.program('on_cgroup').attach({ cgroup: cg });
    undo.add(() => l.detach());
    assert.equal(l.info()!.type, 'cgroup');
    const before = hits(HIT.cgroup);
    await traffic();
    assert.ok(hits(HIT.cgroup) > before, 'cgroup_skb egress saw the datagrams');
    l.detach();
  } finally {
    undo.run();
    rt.close();
  }
});

test('kernel ring buffer: events from a tracepoint and a kprobe on real openat() calls', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const rt = new KernelRuntime();
  const undo = new Cleanup();
  try {
    const c = await rt.load(await loadObjectFile(join(FIXTURES, 'tracer_ringbuf.o')));
    undo.add(() => c.close());
    const reader = new KernelRingBufReader(c.map('events'));
    undo.add(() => reader.close());
    for (const [prog, source] of [['trace_openat', 1], ['kprobe_openat', 2]] as const) {
      if (prog === 'kprobe_openat' && !existsSync('/sys/bus/event_source/devices/kprobe')) {
        t.diagnostic('kprobe_openat not exercised: this kernel has no kprobes (CONFIG_KPROBES)');
        continue;
      }
      const link = c.program(prog).attach();
      undo.add(() => link.detach());
      // fire until this process's event arrives; the wait is epoll on the map fd, no polling loop
      const timer = setInterval(openat, 20);
      undo.add(() => clearInterval(timer));
      let mine: { pid: number; source: number; comm: string } | undefined;
      for await (const rec of reader) {
        const dv = new DataView(rec.buffer, rec.byteOffset);
        const e = { pid: dv.getUint32(0, true), source: dv.getUint32(4, true), comm: new TextDecoder().decode(rec.subarray(16, 32)).replace(/\0.*$/s, '') };
        if (e.pid === process.pid && e.source === source) {
          mine = e;
          break;
        }
      }
      clearInterval(timer);
      link.detach();
      assert.ok(mine, `${prog}: an event from this process`);
      assert.equal(mine.source, source);
      assert.ok(process.title.startsWith(mine.comm) || mine.comm.length > 0, `comm ${mine.comm}`);
      assert.ok(reader.records > 0);
    }
    // callback mode: a reader that calls back on every wakeup
    const got: number[] = [];
    const link = c.program('trace_openat').attach();
    undo.add(() => link.detach());
    const done = new Promise<void>((resolve) => {
      const cb = new KernelRingBufReader(c.map('events'), {
        onRecord: (rec) => {
          if (new DataView(rec.buffer, rec.byteOffset).getUint32(0, true) === process.pid) {
            got.push(1);
            cb.close(); // delivery starts after the constructor returned (test/kernel-readers.test.ts)
            resolve();
          }
        },
      });
      undo.add(() => cb.close());
    });
    const timer = setInterval(openat, 20);
    undo.add(() => clearInterval(timer));
    await done;
    assert.equal(got.length, 1);
  } finally {
    undo.run();
    rt.close();
  }
});

test('kernel links: a link fd closed by the process is gone from the kernel', async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  // a child process attaches and exits without detaching: the kernel drops the link with the fd
  const script = `
    import { loadObjectFile } from ${JSON.stringify(join(ROOT, 'dist/src/object/file.js'))};
    import { KernelRuntime } from ${JSON.stringify(join(ROOT, 'dist/src/kernel/index.js'))};
    const c = await new KernelRuntime().load(await loadObjectFile(${JSON.stringify(join(FIXTURES, 'tracer_ringbuf.o'))}));
    const l = c.program('trace_openat').attach();
    console.log(l.info().id);
    process.exit(0);`;
  const id = Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
  assert.ok(id > 0);
  const sys = await new KernelRuntime().sys();
  // the kernel frees links asynchronously after the last fd closes: wait for the id to go (bounded)
  let gone = false;
  for (let i = 0; i < 200 && !gone; i++) {
    try {
      sys.close(fdById(sys, 'link', id));
      await new Promise((r) => setTimeout(r, 25));
    } catch {
      gone = true;
    }
  }
  assert.ok(gone, `link ${id} was released when its process exited`);
});

test('kernel perf buffer and trace_pipe: records from a raw tracepoint of this process', { timeout: 60_000 }, async (t) => {
  const why = await skipReason();
  if (why) return t.skip(why);
  const rt = new KernelRuntime();
  const undo = new Cleanup();
  try {
    const c = await rt.load(attachSpec(), { programs: ['on_perf', 'on_printk'] });
    undo.add(() => c.close());
    const perf = new KernelPerfReader(c.map('perf'));
    undo.add(() => perf.close());
    const l = c.program('on_perf').attach();
    undo.add(() => l.detach());
    const timer = setInterval(openat, 20);
    undo.add(() => clearInterval(timer));
    let rec: { cpu: number; data: Uint8Array } | undefined;
    for await (const r of perf) {
      rec = r;
      break;
    }
    l.detach();
    assert.ok(rec);
    // 8 bytes written; the kernel pads the raw sample so that its u32 size + data is a multiple of 8
    assert.equal(new DataView(rec.data.buffer, rec.data.byteOffset).getBigUint64(0, true), 0x7473627066n);
    assert.ok(rec.cpu >= 0);
    assert.equal(perf.lost, 0);
    // bpf_printk lines through tracefs's trace_pipe (shared by the machine: filter on our message)
    const pipe = await TracePrintkReader.open();
    undo.add(() => pipe.close());
    const lp = c.program('on_printk').attach();
    undo.add(() => lp.detach());
    let line: { message: string; pid: number } | undefined;
    for await (const tl of pipe) {
      if (tl.message.includes(`tsbpf-printk ${process.pid}`)) {
        line = tl;
        break;
      }
    }
    assert.ok(line);
    // trace_pipe names the thread (the kernel's pid): any thread of this process may make the
    // system call (libuv's pool, koffi's poller), so the line's pid is one of our tasks
    assert.ok(line.pid === process.pid || existsSync(`/proc/${process.pid}/task/${line.pid}`), `trace_pipe pid ${line.pid} is a thread of ${process.pid}`);
  } finally {
    undo.run();
    rt.close();
  }
});
