/**
 * Differential test of the socket filter hook against Linux: the same BPF
 * object (test/hooks-sockfilter/fields.c) is attached with SO_ATTACH_BPF to a
 * real UDP socket on 127.0.0.1 (by the C program harness.c, built here with
 * clang-19 and libbpf) and with socketFilter() to a Node dgram socket; the same
 * datagrams are sent to both. What the application receives and what the
 * program recorded (__sk_buff fields, bytes read with bpf_skb_load_bytes and
 * LD_ABS, helper return codes, verdicts) must be the same, the ports aside.
 * Needs root (loading the program), clang-19 and libbpf-dev: skipped
 * with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { socketFilter } from '../src/hooks/packet/socket-filter.js';
import { MULTIARCH_INCLUDE, ROOT } from './paths.js';
import { which } from './runtime-kerneltools.js';
import { udpPair } from './support/udp.js';

const DIR = resolve(ROOT, 'test/hooks-sockfilter');
/** The datagrams: the first byte chooses the verdict (see fields.c). */
const DATAGRAMS = ['hello world', '#dropped', '3 cut below the 8-byte cap', 'cut to four', 'whole, and a return past the end', '', 'x', '0 return zero'];
/** struct seen: 21 u32, head[8], two s32 */
const SEEN_SIZE = 100;
const ABS_WORD0 = 17 * 4;
const HEAD = 21 * 4;

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (loading a socket filter into the kernel)';
  if (!which('clang-19')) return 'clang-19 is not installed';
  if (!existsSync('/usr/include/bpf/libbpf.h')) return 'libbpf-dev is not installed';
  return undefined;
}

interface Outcome {
  recv: string[];
  seen: Uint8Array[];
  ports: [number, number];
}

/** The struct with the ports taken out, after checking they are where they belong (UDP header, LD_ABS word 0). */
function portless(v: Uint8Array, [src, dst]: [number, number], what: string): Uint8Array {
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  assert.equal(dv.getUint16(HEAD, false), src, `${what}: source port at skb offset 0`);
  assert.equal(dv.getUint16(HEAD + 2, false), dst, `${what}: destination port at offset 2`);
  assert.equal(dv.getUint32(ABS_WORD0, true), ((src << 16) | dst) >>> 0, `${what}: LD_ABS word 0 (host order of the big-endian load)`);
  const out = v.slice();
  out.fill(0, HEAD, HEAD + 4);
  out.fill(0, ABS_WORD0, ABS_WORD0 + 4);
  return out;
}

function kernelRun(obj: string, harness: string): Outcome {
  const out = execFileSync(harness, [obj, 'fields', 'seen', String(DATAGRAMS.length), ...DATAGRAMS], { encoding: 'utf8' });
  const res: Outcome = { recv: [], seen: [], ports: [0, 0] };
  for (const line of out.split('\n')) {
    const [kind, a, b] = line.split(' ');
    if (kind === 'recv') res.recv.push(Buffer.from(b ?? '', 'hex').toString());
    else if (kind === 'map') res.seen[Number(a)] = Buffer.from(b!, 'hex');
    else if (kind === 'ports') res.ports = [Number(a), Number(b)];
  }
  return res;
}

async function tsbpfRun(obj: string): Promise<Outcome> {
  const rt = new Runtime();
  const coll = await loadCollectionFile(obj, rt);
  const { server, client } = await udpPair({ bindClient: true });
  const res: Outcome = { recv: [], seen: [], ports: [client.address().port, server.address().port] };
  server.on('message', (m, r) => {
    assert.equal(r.size, m.length, 'rinfo.size is the length the application gets');
    res.recv.push(m.toString());
  });
  const link = coll.program('fields').attach(socketFilter(server));
  try {
    for (const d of DATAGRAMS) await new Promise<void>((r, j) => client.send(d, server.address().port, '127.0.0.1', (e) => (e ? j(e) : r())));
    // Every datagram reaches the filter (loopback); wait for the last, without a timing assumption.
    for (let spins = 0; link.runs < DATAGRAMS.length && spins < 100000; spins++) await new Promise((r) => setImmediate(r));
    assert.equal(link.runs, DATAGRAMS.length);
    assert.equal(link.errors, 0);
    for (let k = 0; k < DATAGRAMS.length; k++) res.seen[k] = (coll.map('seen').get(k) as Uint8Array).slice();
  } finally {
    link.detach();
    server.close();
    client.close();
    rt.close();
  }
  return res;
}

test('socket filter on a UDP socket: tsbpf and Linux (SO_ATTACH_BPF) see and deliver the same', { skip: skipReason() }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-sockfilter-'));
  try {
    const obj = join(tmp, 'fields.o');
    const harness = join(tmp, 'harness');
    execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', MULTIARCH_INCLUDE, '-c', join(DIR, 'fields.c'), '-o', obj]);
    // clang-19 builds the host program too (a fresh Debian with clang-19 may have no cc).
    execFileSync('clang-19', ['-O1', '-o', harness, join(DIR, 'harness.c'), '-lbpf']);
    const linux = kernelRun(obj, harness);
    const ours = await tsbpfRun(obj);
    // What the application got: drops, trims (capped at the UDP header: '3...' and '0...' arrive empty), whole datagrams.
    assert.deepEqual(ours.recv, linux.recv);
    assert.deepEqual(linux.recv, ['hello world', '', 'cut ', 'whole, and a return past the end', '', 'x'], 'the kernel did what fields.c says');
    assert.equal(linux.seen.length, DATAGRAMS.length);
    for (let k = 0; k < DATAGRAMS.length; k++) {
      assert.equal(linux.seen[k]!.length, SEEN_SIZE);
      const what = `datagram ${k} (${JSON.stringify(DATAGRAMS[k])})`;
      assert.deepEqual(Buffer.from(portless(ours.seen[k]!, ours.ports, `tsbpf ${what}`)).toString('hex'), Buffer.from(portless(linux.seen[k]!, linux.ports, `Linux ${what}`)).toString('hex'), what);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
