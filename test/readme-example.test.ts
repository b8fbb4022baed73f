/**
 * The README's library example, run as written (through the package's public
 * entry), so the README cannot drift from the API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Runtime, loadObjectFile } from '../src/index.js';
import { FIXTURES } from './paths.js';

/** An Ethernet + IPv4 header (UDP, source 10.0.0.1), padded to 64 bytes. */
function udpPacket(): Uint8Array {
  const p = new Uint8Array(64);
  p.set([0x08, 0x00], 12); // EtherType IPv4
  p[14] = 0x45; // version 4, IHL 5
  p[23] = 17; // protocol UDP
  p.set([10, 0, 0, 1], 26); // source address
  return p;
}

test('README: load an object, run a program, read and write its maps from the host', async () => {
  const rt = new Runtime();
  const coll = await rt.load(await loadObjectFile(resolve(FIXTURES, 'xdp_firewall.o')));
  const prog = coll.programs.get('xdp_firewall')!;
  const { retval, data } = prog.run({ data: udpPacket(), repeat: 100 });
  assert.equal(retval, 2); // XDP_PASS
  assert.equal(data?.length, 64);

  const counts = coll.maps.get('proto_count')!;
  const udp = counts.get(new Uint8Array([17, 0, 0, 0])) as Uint8Array;
  assert.equal(new DataView(udp.buffer, udp.byteOffset).getBigUint64(0, true), 100n);
  let nonZero = 0;
  for (const [, value] of counts.entries()) if ((value as Uint8Array).some((b) => b !== 0)) nonZero++;
  assert.equal(nonZero, 1);

  // The host blocks 10.0.0.1; the program now drops the same packet.
  coll.maps.get('blocklist')!.set(new Uint8Array([10, 0, 0, 1]), new Uint8Array([1]));
  assert.equal(prog.run({ data: udpPacket() }).retval, 1); // XDP_DROP
  coll.close();
  rt.close();
});
