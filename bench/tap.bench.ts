/**
 * `npm run bench -- tap`: the cost of XDP on a TAP device used as a NIC
 * (Linux, root; skipped with the reason otherwise). Namespace A sends UDP
 * datagrams out of its TAP as fast as a Node sender can; this process reads
 * each frame, runs the xdp program (or none) and writes the frame to the TAP
 * of namespace B (XDP_PASS to the host side). Measured per frame handled:
 * this process's CPU time (user + system, so the read(2)/write(2) calls are
 * in it) and the frames per second that got through. Rows: no program (the
 * baseline: the bare software wire) and a 2-instruction XDP_PASS program, for
 * both ways of reading the TAP (epoll through libuv, and polling), all in
 * the same run.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { assemble } from '../src/isa/asm.js';
import { TapDevice } from '../src/hooks/packet/tap.js';
import { tapXdp } from '../src/hooks/packet/tap-xdp.js';

const FRAMES = 20000;

const SENDER = `
const dgram = require('node:dgram');
const [addr, port, count] = process.argv.slice(2);
const s = dgram.createSocket('udp4');
const msg = Buffer.alloc(64, 0x61);
let sent = 0;
// Bursts of 32, then yield: the TAP's queue (txqueuelen 1000) is not flooded faster than it drains.
function burst() {
  for (let i = 0; i < 32 && sent < Number(count); i++, sent++) s.send(msg, Number(port), addr);
  if (sent < Number(count)) setTimeout(burst, 0); else setTimeout(() => process.exit(0), 200);
}
s.bind(0, burst);
`;

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'TAP devices are Linux only';
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'ip (iproute2) is missing';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  return undefined;
}

interface Row {
  label: string;
  frames: number;
  cpuNs: number;
  fps: number;
}

export async function main(): Promise<void> {
  const skip = skipReason();
  if (skip) {
    console.log(`tap bench: skipped (${skip})`);
    return;
  }
  const tag = `${process.pid % 100000}`;
  const nsA = `tsbpf-ba-${tag}`;
  const nsB = `tsbpf-bb-${tag}`;
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-tapbench-'));
  const sender = join(tmp, 'send.cjs');
  writeFileSync(sender, SENDER);
  const rt = new Runtime();
  const pass = await rt.loadProgram({ name: 'xdp_pass', type: 'xdp', insns: assemble('r0 = 2\nexit\n') });
  const rows: Row[] = [];
  const ip = (args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });
  try {
    for (const io of ['event', 'poll'] as const) {
      for (const ns of [nsA, nsB]) {
        spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
        ip(['netns', 'add', ns]);
        spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'], { stdio: 'ignore' });
      }
      const a = TapDevice.open({ name: `tsbbA${tag}`, netns: nsA, io });
      const b = TapDevice.open({ name: `tsbbB${tag}`, netns: nsB, io });
      try {
        ip(['-n', nsA, 'addr', 'add', '10.79.0.1/24', 'dev', a.name]);
        ip(['-n', nsB, 'addr', 'add', '10.79.0.2/24', 'dev', b.name]);
        ip(['-n', nsA, 'link', 'set', a.name, 'up']);
        ip(['-n', nsB, 'link', 'set', b.name, 'up']);
        ip(['-n', nsA, 'neigh', 'replace', '10.79.0.2', 'lladdr', b.mac, 'dev', a.name, 'nud', 'permanent']);
        rt.devices.set(a.ifindex, a);
        const nic = tapXdp(a, { pass: b });
        for (const withProg of [false, true]) {
          const link = withProg ? pass.attach(nic) : undefined;
          let n = 0;
          let first = 0n;
          let last = 0n;
          let cpu0 = process.cpuUsage();
          nic.onFrame = () => {
            if (n === 0) {
              first = process.hrtime.bigint();
              cpu0 = process.cpuUsage();
            }
            n++;
            last = process.hrtime.bigint();
          };
          const child = spawn('ip', ['netns', 'exec', nsA, process.execPath, sender, '10.79.0.2', '9', String(FRAMES)], { stdio: 'ignore' });
          await new Promise((r) => child.on('close', r));
          // Let the queue drain.
          await new Promise((r) => setTimeout(r, 100));
          const cpu = process.cpuUsage(cpu0);
          nic.onFrame = undefined;
          link?.detach();
          const frames = Math.max(1, n);
          rows.push({
            label: `${io === 'event' ? 'epoll' : 'poll '} read, ${withProg ? 'xdp_pass (r0 = 2)' : 'no program (baseline)'}`,
            frames: n,
            cpuNs: ((cpu.user + cpu.system) * 1000) / frames,
            fps: n / (Number(last - first) / 1e9 || 1),
          });
        }
        nic.close();
      } finally {
        a.close();
        b.close();
        for (const ns of [nsA, nsB]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      }
    }
  } finally {
    rt.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  const base = rows[0]!.cpuNs;
  console.log(`\nXDP on a TAP device (${FRAMES} UDP datagrams of 64 bytes sent from a namespace; CPU of this process per frame)`);
  console.log(`${'configuration'.padEnd(40)}${'frames'.padStart(8)}${'CPU/frame'.padStart(12)}${'ratio'.padStart(8)}${'frames/s'.padStart(11)}`);
  for (const r of rows)
    console.log(`${r.label.padEnd(40)}${String(r.frames).padStart(8)}${`${(r.cpuNs / 1000).toFixed(2)} µs`.padStart(12)}${(r.cpuNs / base).toFixed(2).padStart(8)}${Math.round(r.fps).toString().padStart(11)}`);
}
