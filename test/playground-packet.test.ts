/**
 * The playground's packet builder (playground/src/lib/packet.ts) and hex
 * helpers: frames byte for byte, checksums a receiver accepts (re-summing a
 * header with its checksum gives 0, RFC 1071), and clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPacket, describePacket, inetChecksum, parseIpv6, DEFAULT_PACKET, PacketError } from '../playground/src/lib/packet.js';
import { parseHex, toHex, HexError, fromBase64Url, toBase64Url } from '../playground/src/lib/hex.js';

test('IPv4/UDP: the layout, lengths and checksums', () => {
  const b = buildPacket({ ...DEFAULT_PACKET, payload: '68 65 6c 6c 6f' });
  assert.equal(b.length, 14 + 20 + 8 + 5);
  assert.equal(toHex(b.subarray(0, 14)), '02 00 00 00 00 02 02 00 00 00 00 01 08 00');
  const ip = b.subarray(14, 34);
  assert.equal(ip[0], 0x45);
  assert.equal((ip[2]! << 8) | ip[3]!, 33);
  assert.equal(ip[9], 17);
  assert.deepEqual([...ip.subarray(12, 20)], [10, 0, 0, 1, 10, 0, 0, 2]);
  assert.equal(inetChecksum([ip]), 0, 'the IPv4 header sums to 0 with its checksum');
  // The RFC 768 checksum over pseudo-header + UDP header + data sums to 0 as well.
  const pseudo = Uint8Array.of(10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 13);
  assert.equal(inetChecksum([pseudo, b.subarray(34)]), 0);
  assert.equal((b[34]! << 8) | b[35]!, 12345);
  assert.equal((b[36]! << 8) | b[37]!, 53);
});

test('IPv6/TCP: header fields, flags and the checksum over the IPv6 pseudo-header', () => {
  const b = buildPacket({ ...DEFAULT_PACKET, l3: 'ipv6', src: 'fe80::1', dst: '2001:db8::2', l4: 'tcp', sport: 40000, dport: 80, tcpFlags: 'SA', seq: 0x01020304, payload: '' });
  assert.equal(b.length, 14 + 40 + 20);
  assert.equal((b[12]! << 8) | b[13]!, 0x86dd);
  assert.equal(b[14]! >> 4, 6);
  assert.equal(b[14 + 6], 6, 'next header TCP');
  assert.equal(toHex(b.subarray(22, 38)), 'fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01');
  const tcp = b.subarray(54);
  assert.equal(tcp[13], 0x12, 'SYN|ACK');
  assert.equal(toHex(tcp.subarray(4, 8)), '01 02 03 04');
  const pseudo = new Uint8Array(40);
  pseudo.set(b.subarray(22, 54));
  pseudo.set([0, 0, 0, 20, 0, 0, 0, 6], 32);
  assert.equal(inetChecksum([pseudo, tcp]), 0);
  assert.deepEqual(describePacket(b).slice(0, 3), [
    'Ethernet 02:00:00:00:00:01 → 02:00:00:00:00:02 type 0x86dd',
    'IPv6 fe80::1 → 2001:db8::2 hop limit 64 next header 6',
    'TCP 40000 → 80 flags SA seq 16909060',
  ]);
});

test('raw Ethernet frames and IPv6 text forms', () => {
  const arp = buildPacket({ ...DEFAULT_PACKET, l3: 'none', ethType: 0x0806, payload: '00 01' });
  assert.equal(toHex(arp.subarray(12)), '08 06 00 01');
  assert.equal(toHex(parseIpv6('::')), toHex(new Uint8Array(16)));
  assert.equal(toHex(parseIpv6('1:2:3:4:5:6:7:8')), '00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 08');
  assert.throws(() => parseIpv6('1::2::3'), PacketError);
  assert.throws(() => parseIpv6('1:2:3'), PacketError);
});

test('bad fields are PacketErrors that name the field', () => {
  assert.throws(() => buildPacket({ ...DEFAULT_PACKET, src: '10.0.0.300' }), /'10\.0\.0\.300' is not an IPv4 address/);
  assert.throws(() => buildPacket({ ...DEFAULT_PACKET, ethSrc: 'zz' }), /not a MAC address/);
  assert.throws(() => buildPacket({ ...DEFAULT_PACKET, dport: 70000 }), /destination port 70000/);
  assert.throws(() => buildPacket({ ...DEFAULT_PACKET, l4: 'tcp', tcpFlags: 'X' }), /'X' is not a TCP flag/);
  assert.throws(() => buildPacket({ ...DEFAULT_PACKET, payload: 'abc' }), HexError);
});

test('hex and base64url', () => {
  assert.deepEqual([...parseHex('0x01, 02:ff\n 10')], [1, 2, 255, 16]);
  assert.throws(() => parseHex('0g'), /'g' is not a hex digit/);
  assert.equal(toHex(Uint8Array.of(1, 2, 3), 2), '01 02\n03');
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
  assert.deepEqual(fromBase64Url(toBase64Url(bytes)), bytes);
  assert.doesNotMatch(toBase64Url(bytes), /[+/=]/);
});
