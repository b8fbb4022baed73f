/**
 * `npm run bench -- hooks`: what hooks cost the application.
 *   - a call of an empty JavaScript method, unprobed (the baseline), with a
 *     uprobe running a 2-instruction program, and with examples/func_probe.o's
 *     on_entry (map update, helpers, string copy): the added ns per call;
 *   - an app tracepoint fire with one trivial program attached.
 * All measured in the same run.
 */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { assemble } from '../src/isa/asm.js';
import { enableProbeHelpers, uprobe } from '../src/hooks/uprobe.js';
import { appTracepoint } from '../src/hooks/tracepoint.js';
import dgram from 'node:dgram';
import { dgramXdp } from '../src/hooks/packet/dgram.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');

function time(n: number, fn: () => void): number {
  for (let i = 0; i < Math.min(n, 20000); i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

export async function main(): Promise<void> {
  const N = 1_000_000;
  const rt = enableProbeHelpers(new Runtime());
  const trivial = await rt.loadProgram({ name: 'trivial', type: 'kprobe', insns: assemble('r0 = 0\nexit\n') });
  const coll = await loadCollectionFile(resolve(ROOT, 'examples/func_probe.o'), rt);
  const target = { f(a: number, b: number): number { return a + b; } };
  let sink = 0;
  const call = (): void => {
    sink += target.f(1, 2);
  };
  const rows: Array<[string, number]> = [];
  const base = time(N, call);
  rows.push(['empty method, no probe (baseline)', base]);
  let link = trivial.attach(uprobe(target, 'f'));
  rows.push(['uprobe, program `r0 = 0; exit`', time(N, call)]);
  link.detach();
  link = coll.program('on_entry').attach(uprobe(target, 'f'));
  rows.push(['uprobe, func_probe.o on_entry (maps+helpers)', time(N / 4, call)]);
  link.detach();
  rows.push(['empty method after detach', time(N, call)]);
  const tpProg = await rt.loadProgram({ name: 'tp', type: 'tracepoint', insns: assemble('r0 = 0\nexit\n') });
  const tp = appTracepoint('bench');
  const tl = tpProg.attach(tp.tracepoint);
  const data = [1n];
  rows.push(['app tracepoint fire, trivial program', time(N / 4, () => tp.fire(data))]);
  tl.detach();

  // xdp on a UDP socket: the per-datagram cost of the hook (frame synthesis, program, verdict), delivered
  // straight into the hook as the socket's 'message' event would (no kernel/network time in the figure).
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  let got = 0;
  sock.on('message', () => got++);
  const msg = Buffer.from('hello, 64 bytes of payload..............................!');
  const rinfo = { address: '127.0.0.1', family: 'IPv4' as const, port: 40000, size: msg.length };
  const P = 50_000;
  const pktBase = time(P, () => sock.emit('message', msg, rinfo));
  const guard = await loadCollectionFile(resolve(ROOT, 'examples/udp_guard.o'), rt);
  const xl = guard.program('udp_guard').attach(dgramXdp(sock));
  const pktXdp = time(P, () => sock.emit('message', msg, rinfo));
  xl.detach();
  sock.close();
  rows.push(['UDP datagram to a listener, no program', pktBase]);
  rows.push(['UDP datagram through xdp udp_guard (PASS)', pktXdp]);
  if (got === 0) console.log('');
  console.log('\nhooks: cost per event (ns), same run');
  console.log('case'.padEnd(48) + 'ns/call'.padStart(10) + 'added ns'.padStart(10) + 'ratio'.padStart(8));
  for (const [name, ns] of rows) {
    const b = name.startsWith('UDP') ? pktBase : base;
    console.log(name.padEnd(48) + ns.toFixed(1).padStart(10) + (ns - b).toFixed(1).padStart(10) + (ns / b).toFixed(1).padStart(8));
  }
  if (sink === 42) console.log('');
  rt.close();
}
