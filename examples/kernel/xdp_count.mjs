// xdp_count.mjs: packets and bytes per IP protocol on an interface, from an
// XDP program (generic mode, so any interface will do), every second (as root).
//   sudo node examples/kernel/xdp_count.mjs IFACE [--seconds N]
import { loadObjectFile } from 'tsbpf';
import { KernelRuntime } from 'tsbpf/kernel';

const iface = process.argv[2];
if (!iface) throw new Error('usage: xdp_count.mjs IFACE [--seconds N]');
const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] || Infinity);
const NAMES = { 0: 'non-IPv4', 1: 'icmp', 6: 'tcp', 17: 'udp' };

const rt = new KernelRuntime();
const coll = await rt.load(await loadObjectFile(new URL('./xdp_count.o', import.meta.url).pathname));
const link = coll.program('xdp_count').attach({ xdp: iface, mode: 'skb' });
const counts = coll.map('by_proto');
const u64 = (b, o) => new DataView(b.buffer, b.byteOffset).getBigUint64(o, true);

for (let s = 0; s < seconds; s++) {
  await new Promise((r) => setTimeout(r, 1000));
  const rows = [];
  for (const [k, perCpu] of counts.entries()) {
    const proto = new DataView(k.buffer, k.byteOffset).getUint32(0, true);
    // one value per CPU: add them up
    const packets = perCpu.reduce((n, v) => n + u64(v, 0), 0n);
    const bytes = perCpu.reduce((n, v) => n + u64(v, 8), 0n);
    if (packets > 0n) rows.push(`${(NAMES[proto] ?? `proto ${proto}`).padEnd(9)} ${String(packets).padStart(8)} packets ${String(bytes).padStart(10)} bytes`);
  }
  console.log(`--- ${iface} after ${s + 1}s\n${rows.join('\n') || '(no packets)'}`);
}
link.detach();
coll.close();
