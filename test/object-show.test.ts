import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN } from './paths.js';
import { fixturePath } from './object-tools.js';

const tsbpf = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

test('tsbpf object show -j prints exactly one JSON object in the documented shape', () => {
  const r = tsbpf('object', 'show', fixturePath('global_data.o'), '-j');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.deepEqual(JSON.parse(r.stdout), {
    programs: [{ name: 'global_data', section: 'xdp', type: 'xdp', insns: 43 }],
    maps: [
      { name: 'global_d.data', type: 'array', key_size: 4, value_size: 8, max_entries: 1 },
      { name: 'global_d.rodata', type: 'array', key_size: 4, value_size: 5, max_entries: 1 },
      { name: '.data.hist', type: 'array', key_size: 4, value_size: 32, max_entries: 1 },
      { name: '.rodata.greetin', type: 'array', key_size: 4, value_size: 8, max_entries: 1 },
      { name: 'global_d.bss', type: 'array', key_size: 4, value_size: 8, max_entries: 1 },
    ],
  });
  // -j before the command works too, as with bpftool
  const early = tsbpf('-j', 'object', 'show', fixturePath('tail_call.o'));
  assert.equal(early.status, 0, early.stderr);
  assert.deepEqual(JSON.parse(early.stdout).programs.map((p: { name: string }) => p.name), ['tail_a', 'tail_b', 'dispatch']);
});

test('tsbpf object show prints a table; errors are typed and exit non-zero', () => {
  const r = tsbpf('object', 'show', fixturePath('tracer_ringbuf.o'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^object tracer_ringbuf: 2 program\(s\), 1 map\(s\)/);
  assert.match(r.stdout, /trace_openat\s+tracepoint\/syscalls\/sys_enter_openat\s+tracepoint\s+23/);
  assert.match(r.stdout, /events\s+ringbuf\s+0\s+0\s+262144/);
  const missing = tsbpf('object', 'show', '/nonexistent/x.o');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /ENOENT/);
  const notElf = tsbpf('object', 'show', fixturePath('xdp_firewall.c'));
  assert.equal(notElf.status, 1);
  assert.match(notElf.stderr, /not an ELF file .*ENOEXEC/);
  const usage = tsbpf('object', 'show');
  assert.equal(usage.status, 2);
});
