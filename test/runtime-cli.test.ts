/**
 * The CLI commands of the runtime: `tsbpf prog run` (bpftool's output, -j,
 * data/ctx files, refused inputs) and `tsbpf map dump|lookup|update|delete|
 * show pinned PATH` on a map pinned by the runtime, in bpftool's grammar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, FIXTURES } from './paths.js';
import { Runtime } from '../src/runtime/index.js';
import { openPinnedMapFile, pinMapFile } from '../src/runtime/node.js';
import { eth, ip4l4, tcp } from './runtime-packets.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function tsbpf(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('prog run: -j prints bpftool\'s {retval, duration}; plain output like bpftool; packets in and out', () => {
  const pkt = join(tmp, 'pkt');
  const out = join(tmp, 'out');
  const data = eth(0x0800, ip4l4({}, 6, tcp(1, 2)));
  writeFileSync(pkt, data);
  const fw = join(FIXTURES, 'xdp_firewall.o');
  const j = tsbpf('prog', 'run', fw, 'xdp_firewall', '--data-in', pkt, '--data-out', out, '-j');
  assert.equal(j.code, 0, j.err);
  const o = JSON.parse(j.out) as { retval: number; duration: number };
  assert.deepEqual(Object.keys(o), ['retval', 'duration']);
  assert.equal(o.retval, 2);
  assert.deepEqual(new Uint8Array(readFileSync(out)), data);
  const plain = tsbpf('prog', 'run', fw, 'xdp_pass', 'data_in', pkt, 'repeat', '10', '--jit');
  assert.equal(plain.code, 0, plain.err);
  assert.match(plain.out, /^Return value: 2, duration \(average\): \d+ns\n$/);
  const one = tsbpf('prog', 'run', fw, 'xdp_pass', 'data_in', pkt, '--interpret');
  assert.match(one.out, /^Return value: 2, duration: \d+ns\n$/);
});

test('prog run fills .kconfig externs from this machine, as libbpf does', (t) => {
  // fixtures/externs.c: XDP_ABORTED unless CONFIG_BPF_SYSCALL, then XDP_PASS for LINUX_KERNEL_VERSION >= 5.0.
  // With the externs left zero (the library's user-space default) it returns XDP_ABORTED (0).
  let config = false;
  try {
    config = process.platform === 'linux' && (existsSync('/proc/config.gz') || existsSync(`/boot/config-${release()}`));
  } catch {}
  if (!config) return t.skip('no kernel config here (/proc/config.gz, /boot/config-*): the CLI leaves .kconfig zero');
  const pkt = join(tmp, 'pkt-kconfig');
  writeFileSync(pkt, eth(0x0800, ip4l4({}, 6, tcp(1, 2))));
  const r = tsbpf('prog', 'run', join(FIXTURES, 'externs.o'), 'kernel_version', '--data-in', pkt, '-j');
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as { retval: number }).retval, 2);
});

test('prog run: ctx in/out, and errors with the kernel errno', () => {
  const pkt = join(tmp, 'pkt2');
  writeFileSync(pkt, new Uint8Array(72));
  const ctxIn = join(tmp, 'ctx');
  const ctxOut = join(tmp, 'ctx.out');
  const c = new Uint8Array(24);
  new DataView(c.buffer).setUint32(4, 72, true); // data_end
  writeFileSync(ctxIn, c);
  const r = tsbpf('prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'xdp_pass', '--data-in', pkt, '--ctx-in', ctxIn, '--ctx-out', ctxOut);
  assert.equal(r.code, 0, r.err);
  assert.equal(readFileSync(ctxOut).readUInt32LE(4), 72);
  writeFileSync(pkt, new Uint8Array(10));
  const bad = tsbpf('prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'xdp_pass', '--data-in', pkt);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /EINVAL/);
  const missing = tsbpf('prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'nope', '--data-in', pkt);
  assert.match(missing.err, /ENOENT/);
  const usage = tsbpf('prog', 'run', join(FIXTURES, 'xdp_firewall.o'));
  assert.equal(usage.code, 2);
});

test('map commands on a pinned map: dump, lookup, update, delete, show (bpftool grammar)', async () => {
  const rt = new Runtime();
  const m = rt.createMap({ name: 'counts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8, flags: 0, pinning: 'none' });
  m.set(1, 2n);
  const path = join(tmp, 'counts.pin');
  pinMapFile(m, path);
  rt.close();

  let r = tsbpf('map', 'dump', 'pinned', path);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'key: 01 00 00 00  value: 02 00 00 00 00 00 00 00\nFound 1 element\n');
  r = tsbpf('map', 'update', 'pinned', path, 'key', '3', '0', '0', '0', 'value', 'hex', '07', '00', '00', '00', '00', '00', '00', '00', 'noexist');
  assert.equal(r.code, 0, r.err);
  r = tsbpf('map', 'update', 'pinned', path, 'key', '0x03', '0', '0', '0', 'value', '1', '0', '0', '0', '0', '0', '0', '0', 'noexist');
  assert.notEqual(r.code, 0);
  assert.match(r.err, /File exists/);
  r = tsbpf('map', 'lookup', 'pinned', path, 'key', 'hex', '03', '00', '00', '00', '-j');
  assert.deepEqual(JSON.parse(r.out), { key: ['0x03', '0x00', '0x00', '0x00'], value: ['0x07', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00'] });
  r = tsbpf('map', 'lookup', 'pinned', path, 'key', '9', '0', '0', '0');
  assert.match(r.out, /Not found/);
  r = tsbpf('map', 'lookup', 'pinned', path, 'key', '9', '0', '0');
  assert.match(r.err, /key expected 4 bytes got 3/);
  r = tsbpf('map', 'delete', 'pinned', path, 'key', '1', '0', '0', '0');
  assert.equal(r.code, 0, r.err);
  r = tsbpf('map', 'delete', 'pinned', path, 'key', '1', '0', '0', '0');
  assert.match(r.err, /No such file or directory/);
  r = tsbpf('-j', 'map', 'dump', 'pinned', path);
  assert.deepEqual(JSON.parse(r.out), [{ key: ['0x03', '0x00', '0x00', '0x00'], value: ['0x07', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00'] }]);
  r = tsbpf('map', 'show', 'pinned', path);
  assert.match(r.out, /hash {2}name counts {2}flags 0x0\n\tkey 4B {2}value 8B {2}max_entries 8/);

  // The file written by the CLI reopens in a runtime with the changes.
  const rt2 = new Runtime();
  const again = openPinnedMapFile(rt2, path);
  assert.deepEqual([...again.keys()], [Uint8Array.of(3, 0, 0, 0)]);
  rt2.close();
});

test('map dump of a per-CPU map prints one value per CPU', () => {
  const rt = new Runtime({ numCpus: 2 });
  const m = rt.createMap({ name: 'pc', type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, pinning: 'none' });
  m.set(0, [Uint8Array.of(1, 0, 0, 0), Uint8Array.of(2, 0, 0, 0)]);
  const path = join(tmp, 'pc.pin');
  pinMapFile(m, path);
  rt.close();
  const out = execFileSync(process.execPath, [BIN, 'map', 'dump', 'pinned', path], { encoding: 'utf8' });
  assert.equal(out, 'key:\n00 00 00 00\nvalue (CPU 00): 01 00 00 00\nvalue (CPU 01): 02 00 00 00\nFound 1 element\n');
});
