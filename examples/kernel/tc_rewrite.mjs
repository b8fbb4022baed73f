// tc_rewrite.mjs: a tc program that rewrites packets on their way out of an
// interface (TTL -> 42, UDP port 53 -> 5353, checksums fixed), attached through
// tcx with two capture programs around it, so each packet is seen before and
// after the rewrite. Each packet the kernel rewrote is also run through the
// same object in tsbpf's user-space runtime, and the two results compared.
//   sudo node examples/kernel/tc_rewrite.mjs IFACE --to ADDR [--count N]
// sends N (default 3) UDP datagrams to ADDR port 53 out of IFACE; a listener
// on ADDR port 5353 receives them.
import { createSocket } from 'node:dgram';
import { loadObjectFile, Runtime } from 'tsbpf';
import { KernelRuntime, KernelRingBufReader } from 'tsbpf/kernel';

const arg = (name, dflt) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const iface = process.argv[2];
const to = arg('--to');
const count = Number(arg('--count', 3));
if (!iface || !to) throw new Error('usage: tc_rewrite.mjs IFACE --to ADDR [--count N]');

const spec = await loadObjectFile(new URL('./tc_rewrite.o', import.meta.url).pathname);
const kernel = await new KernelRuntime().load(spec);
const user = await new Runtime().load(spec); // the same object, in user space
// tcx runs a hook's programs in the order they were attached
const hook = { tcx: iface, direction: 'egress' };
const links = ['capture_before', 'tc_rewrite', 'capture_after'].map((p) => kernel.program(p).attach(hook));
const reader = new KernelRingBufReader(kernel.map('packets'));

const ETH = 14, UDP = ETH + 20;
const hex = (b) => Buffer.from(b).toString('hex');
const u16 = (b, o) => (b[o] << 8) | b[o + 1];
/** RFC 768: does the UDP checksum verify? (Not when the device is to fill it: checksum offload.) */
function udpChecksumOk(p) {
  const len = u16(p, UDP + 4);
  let sum = u16(p, ETH + 12) + u16(p, ETH + 14) + u16(p, ETH + 16) + u16(p, ETH + 18) + 17 + len;
  for (let i = 0; i < len; i += 2) sum += (p[UDP + i] << 8) | (i + 1 < len ? p[UDP + i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

const tx = createSocket('udp4');
for (let i = 0; i < count; i++) tx.send(`tsbpf tc_rewrite ${i}`, 53, to);

console.log(`tc_rewrite on ${iface} (tcx egress), ${count} datagrams to ${to}:53`);
let before, seen = 0, same = 0;
for await (const rec of reader) {
  const dv = new DataView(rec.buffer, rec.byteOffset);
  const stage = dv.getUint32(0, true);
  const pkt = rec.subarray(8, 8 + Math.min(dv.getUint32(4, true), 256));
  if (stage === 0) {
    before = pkt;
    continue;
  }
  if (!before || u16(before, UDP + 2) !== 53) continue; // not one of ours
  const after = pkt;
  const r = user.program('tc_rewrite').run({ data: before });
  const mine = r.data;
  const offloaded = !udpChecksumOk(before);
  // With checksum offload (CHECKSUM_PARTIAL) the UDP checksum field holds the
  // pseudo-header sum for the device to complete: bpf_l4_csum_replace leaves
  // it alone for a non-pseudo-header field (inet_proto_csum_replace2), while the
  // user-space runtime has no device and updates it. Compare the rest then.
  const masked = (b) => (offloaded ? Uint8Array.from(b, (x, i) => (i === UDP + 6 || i === UDP + 7 ? 0 : x)) : b);
  const agree = r.retval === -1 >>> 0 && hex(masked(mine)) === hex(masked(after)) && (!offloaded || u16(after, UDP + 6) === u16(before, UDP + 6));
  console.log(
    `ttl ${before[ETH + 8]} -> ${after[ETH + 8]}, udp port ${u16(before, UDP + 2)} -> ${u16(after, UDP + 2)}, ` +
      `ip checksum 0x${u16(before, ETH + 10).toString(16)} -> 0x${u16(after, ETH + 10).toString(16)}: ` +
      (agree ? 'user-space runtime: same bytes' : `user-space runtime DIFFERS:\n  kernel ${hex(after)}\n  user   ${hex(mine)}`) +
      (offloaded ? ' (udp checksum left to the device: checksum offload)' : ''),
  );
  before = undefined;
  if (agree) same++;
  if (++seen >= count) break;
}
console.log(`${same}/${seen} packets rewritten alike by the kernel and the user-space runtime`);
reader.close();
tx.close();
for (const l of links) l.detach();
kernel.close();
user.close();
process.exitCode = same === seen ? 0 : 1;
