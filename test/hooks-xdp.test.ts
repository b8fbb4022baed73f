import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildUdpFrame, parseUdpFrame } from '../src/hooks/packet/frame.js';
import { PcapWriter, readCapture } from '../src/hooks/packet/pcap.js';
import { BIN, ROOT } from './paths.js';

const run = promisify(execFile);
const OBJ = resolve(ROOT, 'examples/xdp_udp.o');

const udp = (dport: number, text: string) =>
  buildUdpFrame({ srcAddr: '10.0.0.1', srcPort: 5555, dstAddr: '10.0.0.2', dstPort: dport, payload: new TextEncoder().encode(text) });

/** The IPv4 header checksum verifies (sums to 0xffff). */
function ipv4ChecksumOk(f: Uint8Array): boolean {
  let s = 0;
  for (let i = 14; i < 34; i += 2) s += (f[i]! << 8) | f[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

/** A pcapng file: section header, one Ethernet interface (µs), enhanced packet blocks. */
function pcapng(frames: Uint8Array[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const pad = (4 - (body.length % 4)) % 4;
    const len = 12 + body.length + pad;
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, true);
    dv.setUint32(4, len, true);
    b.set(body, 8);
    dv.setUint32(len - 4, len, true);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  new DataView(shb.buffer).setUint32(0, 0x1a2b3c4d, true);
  new DataView(shb.buffer).setUint16(4, 1, true);
  new DataView(shb.buffer).setBigInt64(8, -1n, true);
  block(0x0a0d0d0a, shb);
  const idb = new Uint8Array(8);
  new DataView(idb.buffer).setUint16(0, 1, true);
  block(1, idb);
  frames.forEach((f, i) => {
    const body = new Uint8Array(20 + f.length);
    const dv = new DataView(body.buffer);
    dv.setUint32(8, 1000 + i, true);
    dv.setUint32(12, f.length, true);
    dv.setUint32(16, f.length, true);
    body.set(f, 20);
    block(6, body);
  });
  const out = new Uint8Array(blocks.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const b of blocks) (out.set(b, o), (o += b.length));
  return out;
}

test('tsbpf xdp --pcap: counts per action, passed packets written as the program left them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-xdp-'));
  try {
    const w = new PcapWriter();
    const frames = [udp(53, 'dns'), udp(9, 'discard'), udp(7, 'echo'), udp(53, 'again'), new Uint8Array(10)];
    frames.forEach((f, i) => w.add(f, BigInt(i) * 1_000_000_000n));
    writeFileSync(join(dir, 'in.pcap'), w.bytes());
    const { stdout } = await run(process.execPath, [BIN, 'xdp', OBJ, 'xdp_udp', '--pcap', join(dir, 'in.pcap'), '--write', join(dir, 'out.pcap'), '-j']);
    const r = JSON.parse(stdout) as { packets: number; actions: Record<string, number>; written: number; runts: number };
    assert.equal(r.packets, 5);
    assert.deepEqual(r.actions, { XDP_ABORTED: 0, XDP_DROP: 1, XDP_PASS: 2, XDP_TX: 1, XDP_REDIRECT: 0 });
    assert.equal(r.runts, 1);
    assert.equal(r.written, 2);
    const out = [...readCapture(readFileSync(join(dir, 'out.pcap')))];
    assert.equal(out.length, 2);
    assert.equal(out[1]!.tsNs, 3_000_000_000n);
    for (const p of out) {
      assert.equal(p.data[14 + 8], 63, 'TTL decremented');
      assert.ok(ipv4ChecksumOk(p.data), 'IPv4 checksum fixed incrementally');
    }
    assert.equal(new TextDecoder().decode(parseUdpFrame(out[1]!.data)!.payload), 'again');

    // The same packets as pcapng; text output.
    writeFileSync(join(dir, 'in.pcapng'), pcapng(frames));
    const t = await run(process.execPath, [BIN, 'xdp', OBJ, 'xdp_udp', '--pcap', join(dir, 'in.pcapng')]);
    assert.match(t.stdout, /^5 packets through xdp_udp/);
    assert.match(t.stdout, /XDP_DROP +1\n/);
    assert.match(t.stdout, /1 frames shorter than an Ethernet header/);
    assert.match(t.stdout, /XDP_TX +1\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tsbpf xdp refuses a truncated capture with a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-xdp-'));
  try {
    const w = new PcapWriter();
    w.add(udp(53, 'x'));
    const b = w.bytes();
    writeFileSync(join(dir, 'bad.pcap'), b.subarray(0, b.length - 5));
    await assert.rejects(run(process.execPath, [BIN, 'xdp', OBJ, 'xdp_udp', '--pcap', join(dir, 'bad.pcap')]), (e: { code?: number; stderr?: string }) => {
      assert.notEqual(e.code, 0);
      assert.match(e.stderr ?? '', /runs past the end of the file/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('synthesised UDP frames parse back (IPv4 and IPv6)', () => {
  const d4 = { srcAddr: '127.0.0.1', srcPort: 1, dstAddr: '127.0.0.2', dstPort: 2, payload: Uint8Array.of(1, 2, 3) };
  assert.deepEqual(parseUdpFrame(buildUdpFrame(d4)), d4);
  assert.ok(ipv4ChecksumOk(buildUdpFrame(d4)));
  const f6 = buildUdpFrame({ srcAddr: '::1', srcPort: 7, dstAddr: '::1', dstPort: 8, payload: Uint8Array.of(9) });
  assert.equal(f6.length, 14 + 40 + 8 + 1);
  const p6 = parseUdpFrame(f6)!;
  assert.equal(p6.srcAddr, '0:0:0:0:0:0:0:1');
  assert.equal(p6.dstPort, 8);
});
