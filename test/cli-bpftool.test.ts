/**
 * bpftool parity of the CLI (issue 12, part 2): version, help on every
 * command and subcommand, every accepted option in the usage text, map
 * create / pin / update / dump (formatted by BTF as bpftool does), prog run's
 * JSON, prog show. Where root and bpftool are there, the same operations go
 * through the real bpftool and the kernel, and the outputs are compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FIXTURES, ROOT } from './paths.js';
import { COMMANDS } from '../src/cli/main.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-cli-bpftool-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const FW = join(FIXTURES, 'xdp_firewall.o');

interface Result {
  argv: string[];
  code: number;
  out: string;
  err: string;
}
function batch(lines: string[][]): Result[] {
  const r = spawnSync(process.execPath, [resolve(ROOT, 'dist/test/cli-batch.js')], { input: JSON.stringify(lines), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { results: Result[] }).results;
}
const tsbpf = (...argv: string[]): Result => batch([argv])[0]!;

/** bpftool, when it and root are here (else the reason to skip). */
function bpftoolMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for bpftool';
  if (spawnSync('bpftool', ['version']).status !== 0) return 'bpftool is not installed';
  if (spawnSync('bpftool', ['prog', 'show']).status !== 0) return 'the kernel refuses BPF here';
  return undefined;
}


test('help on every command and subcommand, in every spelling', () => {
  const lines: string[][] = [['help'], ['--help'], ['-h']];
  for (const [word, verbs] of Object.entries(COMMANDS)) {
    lines.push([word, 'help'], [word, '--help'], [word, '-h'], ['help', word]);
    for (const v of verbs ?? []) lines.push([word, v, 'help'], [word, v, '--help'], [word, v, '-h'], [word, v, 'x', '--help']);
  }
  for (const r of batch(lines)) {
    assert.equal(r.code, 0, `${r.argv.join(' ')}: ${r.err}`);
    assert.match(r.out, /^Usage: tsbpf /, r.argv.join(' '));
    assert.equal(r.err, '', r.argv.join(' '));
    assert.doesNotMatch(r.out, /Unknown option/);
  }
  const group = tsbpf('map', 'help').out;
  for (const v of COMMANDS.map!) assert.match(group, new RegExp(`tsbpf map (\\{ )?${v}\\b`), `map help lists ${v}`);
});

test('every option a command accepts is in its usage text', async () => {
  const dir = resolve(ROOT, 'dist/src/cli/commands');
  let checked = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.js') && n !== 'map-common.js')) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { usage?: string; options?: Record<string, { short?: string }> };
    assert.ok(mod.usage, `${f} has a usage text`);
    for (const [long, spec] of Object.entries(mod.options ?? {})) {
      // -j / -p are documented by their short names, as bpftool's OPTIONS are
      if (long === 'json' || long === 'pretty') assert.match(mod.usage, new RegExp(`-${spec.short}\\b`), `${f}: -${spec.short}`);
      else assert.ok(mod.usage.includes(`--${long}`), `${f}: --${long} is not in its usage`);
      if (spec.short) assert.ok(mod.usage.includes(`-${spec.short}`), `${f}: -${spec.short} is not in its usage`);
      checked++;
    }
  }
  assert.ok(checked > 30, `only ${checked} options checked`);
});

test('version / --version / -V, plain and -j, as bpftool prints them', () => {
  const [plain, long, short, json] = batch([['version'], ['--version'], ['-V'], ['-j', 'version']]);
  const pkg = JSON.parse(execFileSync('cat', [resolve(ROOT, 'package.json')], { encoding: 'utf8' })) as { version: string };
  assert.match(plain!.out, new RegExp(`^tsbpf v${pkg.version.replace(/\./g, '\\.')}\nusing node v${process.versions.node}\nfeatures: .*jit`));
  assert.equal(long!.out, plain!.out);
  assert.equal(short!.out, plain!.out);
  const j = JSON.parse(json!.out) as { version: string; node_version: string; features: Record<string, boolean> };
  assert.equal(j.version, pkg.version);
  assert.deepEqual(Object.keys(j), ['version', 'node_version', 'features']);
  assert.equal(j.features.jit, true);
});

test('map create, update, dump, lookup from the CLI alone; map pin of an object map formats by BTF', (t) => {
  const m = join(tmp, 'm.pin');
  const [create, again, badType, update, dump, dumpJ] = batch([
    ['map', 'create', m, 'type', 'hash', 'key', '4', 'value', '8', 'entries', '16', 'name', 'counts', 'flags', '1'],
    ['map', 'create', m, 'type', 'hash', 'key', '4', 'value', '8', 'entries', '16', 'name', 'counts'],
    ['map', 'create', join(tmp, 'x.pin'), 'type', 'blah', 'key', '4', 'value', '8', 'entries', '16', 'name', 'x'],
    ['map', 'update', 'pinned', m, 'key', '1', '0', '0', '0', 'value', '2', '0', '0', '0', '0', '0', '0', '0'],
    ['map', 'dump', 'pinned', m],
    ['-j', 'map', 'dump', 'pinned', m],
  ]);
  assert.equal(create!.code, 0, create!.err);
  assert.match(again!.err, /\(EEXIST\)\n$/);
  assert.match(badType!.err, /unrecognized map type: blah \(EINVAL\)/);
  assert.equal(update!.code, 0, update!.err);
  // without BTF (bpftool map create makes none): bpftool's hex layout
  assert.equal(dump!.out, 'key: 01 00 00 00  value: 02 00 00 00 00 00 00 00\nFound 1 element\n');
  assert.deepEqual(JSON.parse(dumpJ!.out), [{ key: ['0x01', '0x00', '0x00', '0x00'], value: ['0x02', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00'] }]);
  const show = tsbpf('map', 'show', 'pinned', m);
  assert.match(show.out, /: hash {2}name counts {2}flags 0x1\n\tkey 4B {2}value 8B {2}max_entries 16\n/);

  const p = join(tmp, 'proto.pin');
  const [pin, upd, btfDump, btfDumpJ, look] = batch([
    ['map', 'pin', FW, 'name', 'proto_count', p],
    ['map', 'update', 'pinned', p, 'key', '6', '0', '0', '0', 'value', '5', '0', '0', '0', '0', '0', '0', '0'],
    ['map', 'dump', 'pinned', p],
    ['-j', 'map', 'dump', 'pinned', p],
    ['map', 'lookup', 'pinned', p, 'key', '6', '0', '0', '0'],
  ]);
  assert.equal(pin!.code, 0, pin!.err);
  assert.equal(upd!.code, 0, upd!.err);
  // bpftool's plain dump of a map with BTF: json_writer's pretty layout, no byte dump
  assert.ok(btfDump!.out.startsWith('[{\n        "key": 0,\n        "value": 0\n    },{\n        "key": 1,'), btfDump!.out.slice(0, 80));
  assert.ok(btfDump!.out.includes('},{\n        "key": 6,\n        "value": 5\n    },{'));
  assert.ok(btfDump!.out.endsWith('"value": 0\n    }\n]\n'));
  const entries = JSON.parse(btfDumpJ!.out) as Array<{ key: string[]; value: string[]; formatted: { key: number; value: number } }>;
  assert.equal(entries.length, 256);
  assert.deepEqual(entries[6], { key: ['0x06', '0x00', '0x00', '0x00'], value: ['0x05', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00'], formatted: { key: 6, value: 5 } });
  assert.equal(look!.out, '{\n    "key": 6,\n    "value": 5\n}\n');

  const why = bpftoolMissing();
  if (why) return t.skip(`comparison with bpftool: ${why}`);
  // The same map in the kernel, through bpftool: the same dump, byte for byte.
  const kpin = `/sys/fs/bpf/tsbpf-cli-test-${process.pid}`;
  try {
    execFileSync('bpftool', ['prog', 'loadall', FW, kpin, 'pinmaps', `${kpin}-maps`]);
    execFileSync('bpftool', ['map', 'update', 'pinned', `${kpin}-maps/proto_count`, 'key', '6', '0', '0', '0', 'value', '5', '0', '0', '0', '0', '0', '0', '0']);
    assert.equal(execFileSync('bpftool', ['map', 'dump', 'pinned', `${kpin}-maps/proto_count`], { encoding: 'utf8' }), btfDump!.out);
    assert.deepEqual(JSON.parse(execFileSync('bpftool', ['-j', 'map', 'dump', 'pinned', `${kpin}-maps/proto_count`], { encoding: 'utf8' })), entries);
    assert.equal(execFileSync('bpftool', ['map', 'lookup', 'pinned', `${kpin}-maps/proto_count`, 'key', '6', '0', '0', '0'], { encoding: 'utf8' }), look!.out);
  } finally {
    rmSync(kpin, { recursive: true, force: true });
    rmSync(`${kpin}-maps`, { recursive: true, force: true });
  }
});

test('prog run: bpftool\'s JSON (data_out and ctx_out as byte arrays, retval, duration) and hex rows', (t) => {
  const pkt = join(tmp, 'pkt');
  const data = Uint8Array.from({ length: 63 }, (_, i) => (i * 7 + 3) & 0xff);
  writeFileSync(pkt, data);
  const ctx = join(tmp, 'ctx');
  const c = new Uint8Array(24);
  new DataView(c.buffer).setUint32(4, 63, true);
  writeFileSync(ctx, c);
  const [j, plain, file] = batch([
    ['-j', 'prog', 'run', FW, 'xdp_pass', 'data_in', pkt, 'data_out', '-', 'ctx_in', ctx, 'ctx_out', '-'],
    ['prog', 'run', FW, 'xdp_pass', 'data_in', pkt, 'data_out', '-', 'repeat', '2'],
    ['-j', 'prog', 'run', FW, 'xdp_pass', 'data_in', pkt, 'data_out', join(tmp, 'out')],
  ]);
  const o = JSON.parse(j!.out) as Record<string, unknown>;
  assert.deepEqual(Object.keys(o), ['data_out', 'ctx_out', 'retval', 'duration']);
  assert.deepEqual(o.data_out, Array.from(data));
  assert.equal((o.ctx_out as number[]).length, 24);
  assert.equal(o.retval, 2);
  assert.deepEqual(Object.keys(JSON.parse(file!.out) as object), ['retval', 'duration']);
  const rows = plain!.out.split('\n');
  // bytes 3, 10, 17, ...: offset, pairs of bytes, the printable ones
  assert.equal(rows[0], '0000000\t030a 1118 1f26 2d34 3b42 4950 575e 656c | .....&-4 ;BIPW^el');
  assert.match(rows[3]!, /^0000030\t(?:[0-9a-f]{4} ){7}[0-9a-f]{2} {3}\| .{8} .{7}$/);
  assert.match(rows[4]!, /^Return value: 2, duration \(average\): \d+ns$/);

  const why = bpftoolMissing();
  if (why) return t.skip(`comparison with bpftool: ${why}`);
  const kpin = `/sys/fs/bpf/tsbpf-cli-run-${process.pid}`;
  try {
    execFileSync('bpftool', ['prog', 'loadall', FW, kpin]);
    const k = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'run', 'pinned', `${kpin}/xdp_pass`, 'data_in', pkt, 'data_out', '-', 'ctx_in', ctx, 'ctx_out', '-'], { encoding: 'utf8' })) as Record<string, unknown>;
    assert.deepEqual(Object.keys(k), Object.keys(o));
    assert.deepEqual(k.data_out, o.data_out);
    assert.deepEqual(k.ctx_out, o.ctx_out);
    assert.equal(k.retval, o.retval);
    const kplain = execFileSync('bpftool', ['prog', 'run', 'pinned', `${kpin}/xdp_pass`, 'data_in', pkt, 'data_out', '-', 'repeat', '2'], { encoding: 'utf8' });
    assert.deepEqual(kplain.split('\n').slice(0, 4), rows.slice(0, 4));
  } finally {
    rmSync(kpin, { recursive: true, force: true });
  }
});

test('prog show FILE: bpftool\'s layout, the kernel\'s tag; without FILE an explanation', (t) => {
  const [plain, one, none] = batch([['prog', 'show', FW], ['-j', 'prog', 'show', FW, 'xdp_pass'], ['prog', 'show']]);
  assert.match(plain!.out, /^\d+: xdp {2}name xdp_firewall {2}tag [0-9a-f]{16} {2}gpl\n\tloaded_at \S+ {2}uid \d+\n\txlated \d+B {2}jited \d+B {2}map_ids \d+,\d+\n/);
  const info = JSON.parse(one!.out) as Record<string, unknown>;
  assert.deepEqual(Object.keys(info), ['id', 'type', 'name', 'tag', 'gpl_compatible', 'loaded_at', 'uid', 'bytes_xlated', 'jited', 'bytes_jited']);
  assert.equal(info.bytes_xlated, 16);
  const why = bpftoolMissing();
  if (why) {
    // no kernel to list (or no right to): one line saying why, never an empty success
    assert.notEqual(none!.code, 0);
    assert.match(none!.err, /\((EOPNOTSUPP|EPERM|ENOSYS)\)\n$/);
    return t.skip(`the kernel's listing and tag: ${why}`);
  }
  // without FILE: the kernel's programs (tsbpf's Linux backend), the ones bpftool lists
  assert.equal(none!.code, 0, none!.err);
  const ids = (out: string) => (JSON.parse(out) as Array<{ id: number }>).map((p) => p.id).sort((a, b) => a - b);
  // Programs come and go while the listings are taken (other tests, other tools): every program
  // bpftool lists both before and after is in ours, and ours has none bpftool saw at neither time.
  const bpftoolIds = (): number[] => ids(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }));
  const before = bpftoolIds();
  const [listed] = batch([['-j', 'prog', 'show']]);
  const after = bpftoolIds();
  const ours = new Set(ids(listed!.out));
  for (const id of before) if (after.includes(id)) assert.ok(ours.has(id), `program ${id} (listed by bpftool before and after) is in tsbpf's listing`);
  for (const id of ours) assert.ok(before.includes(id) || after.includes(id), `program ${id} in tsbpf's listing is one bpftool lists`);
  const kpin = `/sys/fs/bpf/tsbpf-cli-show-${process.pid}`;
  try {
    execFileSync('bpftool', ['prog', 'loadall', FW, kpin]);
    const k = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show', 'pinned', `${kpin}/xdp_pass`], { encoding: 'utf8' })) as Record<string, unknown>;
    assert.equal(info.tag, k.tag);
    const ours = Object.keys(info).filter((x) => x !== 'bytes_memlock');
    for (const key of ours) assert.ok(key in k, `bpftool has ${key}`);
  } finally {
    rmSync(kpin, { recursive: true, force: true });
  }
});
