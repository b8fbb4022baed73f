/**
 * `npm run bench -- hooks`: what hooks cost the application.
 *   - a call of an empty JavaScript method, unprobed (the baseline), with a
 *     uprobe running a 2-instruction program, and with examples/func_probe.o's
 *     on_entry (map update, helpers, string copy): the added ns per call;
 *   - an app tracepoint fire with one trivial program attached;
 *   - packet hooks on a UDP socket (xdp udp_guard.o, socket filter udp_filter.o): the hook's own
 *     cost per datagram (emitted into the socket), and real loopback traffic with and without them.
 * All measured in the same run.
 */
import { fileURLToPath } from 'node:url';
import { bestOf8 } from './timing.js';
import { dirname, resolve } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { assemble } from '../src/isa/asm.js';
import { enableProbeHelpers, uprobe } from '../src/hooks/uprobe.js';
import { appTracepoint } from '../src/hooks/tracepoint.js';
import dgram from 'node:dgram';
import { dgramXdp } from '../src/hooks/packet/dgram.js';
import { socketFilter } from '../src/hooks/packet/socket-filter.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');

/** ns per call of `fn` (bench/timing.ts), warmed with up to 20000 calls. */
const time = (n: number, fn: () => void): number => bestOf8(n, fn, 20000);

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

  // Packet hooks on a UDP socket. First the hook's own cost per datagram: delivered straight into
  // the socket's 'message' event as Node would (no kernel or network time in these figures).
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  let got = 0;
  sock.on('message', () => got++);
  const msg = Buffer.from('hello, 64 bytes of payload..............................!');
  const rinfo = { address: '127.0.0.1', family: 'IPv4' as const, port: 40000, size: msg.length };
  const P = 200_000;
  const guard = await loadCollectionFile(resolve(ROOT, 'examples/udp_guard.o'), rt);
  const filter = await loadCollectionFile(resolve(ROOT, 'examples/udp_filter.o'), rt);
  const emitRows: Array<[string, number]> = [];
  const emitOne = (): void => void sock.emit('message', msg, rinfo);
  const pktBase = time(P, emitOne);
  emitRows.push(['UDP datagram to a listener, no program', pktBase]);
  let xl = guard.program('udp_guard').attach(dgramXdp(sock));
  emitRows.push(['UDP datagram through xdp udp_guard (PASS)', time(P, emitOne)]);
  xl.detach();
  let fl = filter.program('udp_filter').attach(socketFilter(sock));
  emitRows.push(['UDP datagram through socket filter udp_filter', time(P, emitOne)]);
  fl.detach();

  // Then real traffic over loopback: bursts of datagrams from a client socket, timed until the
  // server's listener has them all, with no program, xdp, and a socket filter, alternated and
  // the best round of each kept (the machine is shared).
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  const BURST = 64;
  const ROUNDS = 30;
  const burst = async (): Promise<number> => {
    const target = got + BURST;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BURST; i++) client.send(msg, port, '127.0.0.1');
    // (a datagram lost on a loaded machine must not hang the bench: give up on that burst)
    for (let spins = 0; got < target && spins < 1e6; spins++) await new Promise((r) => setImmediate(r));
    if (got < target) got = target;
    return Number(process.hrtime.bigint() - t0) / BURST;
  };
  for (let i = 0; i < 5; i++) await burst();
  const best = [Infinity, Infinity, Infinity];
  for (let round = 0; round < ROUNDS; round++) {
    best[0] = Math.min(best[0]!, await burst());
    xl = guard.program('udp_guard').attach(dgramXdp(sock));
    best[1] = Math.min(best[1]!, await burst());
    xl.detach();
    // udp_filter keeps 8 payload bytes of these: the listener still gets every datagram.
    fl = filter.program('udp_filter').attach(socketFilter(sock));
    best[2] = Math.min(best[2]!, await burst());
    fl.detach();
  }
  client.close();
  sock.close();
  const sockRows: Array<[string, number]> = [
    ['loopback UDP traffic, no program (baseline)', best[0]!],
    ['loopback UDP traffic, xdp udp_guard (PASS)', best[1]!],
    ['loopback UDP traffic, socket filter udp_filter', best[2]!],
  ];
  const print = (title: string, list: Array<[string, number]>): void => {
    console.log(`\n${title}`);
    console.log('case'.padEnd(50) + 'ns/event'.padStart(10) + 'added ns'.padStart(10) + 'ratio'.padStart(8));
    const b = list[0]![1];
    for (const [name, ns] of list) console.log(name.padEnd(50) + ns.toFixed(1).padStart(10) + (ns - b).toFixed(1).padStart(10) + (ns / b).toFixed(2).padStart(8));
  };
  print('hooks: cost per call / fire (ns), same run', rows);
  print('packet hooks: cost per datagram emitted into the socket (ns), same run', emitRows);
  print('packet hooks: loopback UDP traffic, per datagram sent and received (ns, best of rounds), same run', sockRows);
  if (sink === 42) console.log('');
  rt.close();
}
