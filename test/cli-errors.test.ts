/**
 * Every CLI command given bad input files (issue 11, finding 5): a
 * directory, a missing file, /dev/zero, a huge sparse file, an unwritable
 * output. Each must fail with one line naming the errno the system gives
 * (EISDIR stays EISDIR), exit status 1, no stack trace, and read no more
 * than a bounded amount (the batch's peak RSS stays far below what reading
 * /dev/zero or an 8 GiB file would take).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BIN, FIXTURES, ROOT } from './paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-cli-errors-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const FW = join(FIXTURES, 'xdp_firewall.o');
const DIR = join(tmp, 'a-directory');
mkdirSync(DIR);
/** a directory whose name ends in .o (asm -o X.o writes an ELF object) */
const DIR_O = join(tmp, 'a-directory.o');
mkdirSync(DIR_O);
const MISSING = join(tmp, 'missing');
const SPARSE = join(tmp, 'sparse');
{
  // 8 GiB of holes: reading it whole is what the limits prevent
  const fd = openSync(SPARSE, 'w');
  ftruncateSync(fd, 8 * 2 ** 30);
  closeSync(fd);
}
const PKT = join(tmp, 'pkt');
writeFileSync(PKT, new Uint8Array(64));
const CTX = join(tmp, 'ctx');
{
  const c = new Uint8Array(24); // struct xdp_md: data 0, data_end 64
  new DataView(c.buffer).setUint32(4, 64, true);
  writeFileSync(CTX, c);
}
const ASM = join(tmp, 'p.s');
writeFileSync(ASM, 'r0 = 0\nexit\n');
const PCAP = join(tmp, 'empty.pcap');
{
  const h = new DataView(new ArrayBuffer(24));
  h.setUint32(0, 0xa1b2c3d4, true);
  h.setUint16(4, 2, true);
  h.setUint16(6, 4, true);
  h.setUint32(16, 65535, true);
  h.setUint32(20, 1, true);
  writeFileSync(PCAP, new Uint8Array(h.buffer));
}
const PIN = join(tmp, 'fw.pin');

/** Command lines with one input file X. */
const INPUTS: Array<(x: string) => string[]> = [
  (x) => ['object', 'show', x],
  (x) => ['disasm', x],
  (x) => ['asm', x],
  (x) => ['run', x],
  (x) => ['btf', 'dump', x],
  (x) => ['btf', 'dump', FW, '-B', x],
  (x) => ['prog', 'load', x],
  (x) => ['prog', 'load', FW, '--kernel-btf', x],
  (x) => ['prog', 'show', x],
  (x) => ['prog', 'dump', 'xlated', x, 'xdp_pass'],
  (x) => ['prog', 'run', x, 'xdp_pass', 'data_in', PKT],
  (x) => ['prog', 'run', FW, 'xdp_pass', 'data_in', x],
  (x) => ['prog', 'run', FW, 'xdp_pass', '--data-in', PKT, '--ctx-in', x],
  (x) => ['map', 'dump', 'pinned', x],
  (x) => ['map', 'show', 'pinned', x],
  (x) => ['map', 'lookup', 'pinned', x, 'key', '0', '0', '0', '0'],
  (x) => ['map', 'update', 'pinned', x, 'key', '0', '0', '0', '0', 'value', '0'],
  (x) => ['map', 'delete', 'pinned', x, 'key', '0', '0', '0', '0'],
  (x) => ['map', 'pin', x, 'name', 'proto_count', join(tmp, 'never.pin')],
  (x) => ['map', 'pin', 'pinned', x, join(tmp, 'never2.pin')],
  (x) => ['map', 'create', join(tmp, 'never3.pin'), 'type', 'array_of_maps', 'key', '4', 'value', '4', 'entries', '1', 'name', 'o', 'inner_map', 'pinned', x],
  (x) => ['xdp', FW, 'xdp_pass', '--pcap', x],
  (x) => ['demo', '--object', x],
];

/** Command lines with one output file X (their inputs are good). */
const OUTPUTS: Array<(x: string) => string[]> = [
  (x) => ['asm', ASM, '-o', x],
  (x) => ['asm', ASM, '-o', x === DIR ? DIR_O : `${x}.o`],
  (x) => ['prog', 'run', FW, 'xdp_pass', 'data_in', PKT, 'data_out', x],
  (x) => ['prog', 'run', FW, 'xdp_pass', 'data_in', PKT, 'ctx_in', CTX, 'ctx_out', x],
  (x) => ['xdp', FW, 'xdp_pass', '--pcap', PCAP, '--write', x],
  (x) => ['map', 'create', x, 'type', 'hash', 'key', '4', 'value', '8', 'entries', '4', 'name', 'm'],
  (x) => ['map', 'pin', FW, 'name', 'proto_count', x],
];

interface Result {
  argv: string[];
  code: number;
  out: string;
  err: string;
}

function batch(lines: string[][]): { results: Result[]; maxRssBytes: number } {
  const r = spawnSync(process.execPath, [resolve(ROOT, 'dist/test/cli-batch.js')], { input: JSON.stringify(lines), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { results: Result[]; maxRssBytes: number };
}

/** One line on stderr, ending in the errno, no stack frame, exit 1. */
function assertOneLine(r: Result, errnos: RegExp): void {
  const what = `tsbpf ${r.argv.join(' ')}: ${JSON.stringify(r.err)}`;
  assert.equal(r.code, 1, what);
  assert.equal(r.err.split('\n').filter(Boolean).length, 1, what);
  assert.doesNotMatch(r.err, /\n\s+at /, what);
  const m = /\((E[A-Z0-9]+)\)\n$/.exec(r.err);
  assert.ok(m, `no errno at the end: ${what}`);
  assert.match(m[1]!, errnos, what);
}

test('bad input files: one line with the system errno, bounded memory', (t) => {
  const lines: string[][] = [];
  const want: RegExp[] = [];
  for (const cmd of INPUTS) {
    lines.push(cmd(DIR), cmd(MISSING), cmd('/dev/zero'), cmd(SPARSE));
    // /dev/zero: over the limit, or refused at its first bytes (no ELF/BTF/pcap/pin magic)
    want.push(/^EISDIR$/, /^ENOENT$/, /^(E2BIG|EINVAL|ENOEXEC)$/, /^E2BIG$/);
  }
  const { results, maxRssBytes } = batch(lines);
  results.forEach((r, i) => assertOneLine(r, want[i]!));
  // Reading /dev/zero or the 8 GiB file whole would pass gigabytes; the largest bounded read here is 64 MiB.
  t.diagnostic(`peak RSS of ${lines.length} failing commands: ${(maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(maxRssBytes < 768 * 2 ** 20, `peak RSS ${maxRssBytes} bytes`);
});

test('unwritable outputs: one line with the system errno', () => {
  const lines: string[][] = [];
  const want: RegExp[] = [];
  for (const cmd of OUTPUTS) {
    lines.push(cmd('/nonexistent/x'), cmd(DIR));
    want.push(/^ENOENT$/, /^(EISDIR|EEXIST)$/);
  }
  const { results } = batch(lines);
  results.forEach((r, i) => assertOneLine(r, want[i]!));
});

test('bin/tsbpf: no stack trace, -j errors are bpftool\'s JSON, --debug shows the stack', () => {
  const run = (...a: string[]) => spawnSync(process.execPath, [BIN, ...a], { encoding: 'utf8', env: { ...process.env, TSBPF_DEBUG: '' } });
  const plain = run('prog', 'run', FW, 'xdp_pass', 'data_in', DIR);
  assert.equal(plain.status, 1);
  assert.equal(plain.stderr, `Error: cannot read ${DIR}: Is a directory (EISDIR)\n`);
  const json = run('-j', 'prog', 'run', FW, 'xdp_pass', 'data_in', MISSING);
  assert.equal(json.status, 1);
  assert.deepEqual(JSON.parse(json.stdout), { error: `cannot open ${MISSING}: No such file or directory`, errno: 'ENOENT' });
  const dbg = run('--debug', 'object', 'show', DIR);
  assert.equal(dbg.status, 1);
  assert.match(dbg.stderr, /\n\s+at /);
  assert.match(dbg.stderr, /\(EISDIR\)\n$/);
  const usage = run('prog', 'run', FW);
  assert.equal(usage.status, 2);
  assert.equal(usage.stderr.split('\n').filter(Boolean).length, 1, usage.stderr);
  const conf = run('conformance', PKT);
  assert.match(conf.stderr, /\(ENOTDIR\)\n$/);
  // the conformance plugin's standard input is bounded too
  const plugin = spawnSync(process.execPath, [resolve(ROOT, 'bin/tsbpf-conformance-plugin')], { input: new Uint8Array(64 * 2 ** 20 + 1), encoding: 'utf8' });
  assert.equal(plugin.status, 1);
  assert.match(plugin.stderr, /^Error: standard input: .*\(E2BIG\)\n$/);
});

test('prog load of an object without programs fails with a message (bpftool: "doesn\'t contain any bpf program")', () => {
  // A relocatable BPF ELF with only a license section: valid, but nothing to load.
  const shstr = Buffer.from('\0license\0.shstrtab\0');
  const buf = Buffer.alloc(88 + 3 * 64);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  buf.writeUInt16LE(1, 16); // ET_REL
  buf.writeUInt16LE(247, 18); // EM_BPF
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(88n, 40); // e_shoff
  buf.writeUInt16LE(64, 52);
  buf.writeUInt16LE(64, 58);
  buf.writeUInt16LE(3, 60);
  buf.writeUInt16LE(2, 62);
  buf.write('GPL\0', 64, 'latin1');
  buf.set(shstr, 68);
  const sh = (k: number, name: number, type: number, flags: number, off: number, size: number): void => {
    const b = 88 + k * 64;
    buf.writeUInt32LE(name, b);
    buf.writeUInt32LE(type, b + 4);
    buf.writeBigUInt64LE(BigInt(flags), b + 8);
    buf.writeBigUInt64LE(BigInt(off), b + 24);
    buf.writeBigUInt64LE(BigInt(size), b + 32);
    buf.writeBigUInt64LE(1n, b + 48);
  };
  sh(1, 1, 1, 3, 64, 4); // license, PROGBITS, WA
  sh(2, 9, 3, 0, 68, shstr.length); // .shstrtab
  const obj = join(tmp, 'no-programs.o');
  writeFileSync(obj, buf);
  const run = (...a: string[]) => spawnSync(process.execPath, [BIN, ...a], { encoding: 'utf8', env: { ...process.env, TSBPF_DEBUG: '' } });
  const plain = run('prog', 'load', obj);
  assert.equal(plain.status, 1, plain.stdout);
  assert.equal(plain.stderr, `Error: object file doesn't contain any bpf program: ${obj} (no executable section holds a program) (ENOENT)\n`);
  const json = run('-j', 'prog', 'load', obj);
  assert.equal(json.status, 1);
  assert.deepEqual(JSON.parse(json.stdout), { error: `object file doesn't contain any bpf program: ${obj} (no executable section holds a program)`, errno: 'ENOENT' });
});
