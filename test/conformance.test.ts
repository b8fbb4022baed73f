import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseTestFile, parseHexBytes } from '../src/conformance/data.js';
import { runTest, testProgram } from '../src/conformance/runner.js';
import { plugin } from '../src/conformance/plugin.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { fromHex, toHex } from '../src/isa/insn.js';
import { ROOT, CONFORMANCE_DIR, CONFORMANCE_MISSING, BIN } from './paths.js';

const TESTS = `${CONFORMANCE_DIR}/tests`;
const PLUGIN = resolve(ROOT, 'bin/tsbpf-conformance-plugin');
/** The suite's tests, parsed; empty where ../shared/bpf-conformance is missing (those tests skip). */
const suite = CONFORMANCE_MISSING
  ? []
  : readdirSync(TESTS)
      .filter((f) => f.endsWith('.data'))
      .sort()
      .map((f) => parseTestFile(readFileSync(`${TESTS}/${f}`, 'utf8'), f.replace(/\.data$/, '')));
/** The memory argument exactly as the suite's runner formats it: "%02x" bytes each followed by two spaces. */
const runnerMem = (mem: Uint8Array): string => Array.from(mem, (b) => `${b.toString(16).padStart(2, '0')}  `).join('');

test('the .data parser: sections, comments, mem, raw words, results', () => {
  const t = parseTestFile('# header\n-- asm\n# comment\nmov %r0, 1\nexit\n-- raw\n0x00000001000000b7\n0x0000000000000095\n-- mem\n00 01\n ff\n-- result\n0x2a\n', 'x');
  assert.equal(t.asm, 'mov %r0, 1\nexit');
  assert.deepEqual(t.raw, [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
  assert.deepEqual(Array.from(t.mem), [0, 1, 0xff]);
  assert.equal(t.result, 42n);
  assert.equal(parseTestFile('-- asm\nexit\n-- result\n-1\n').result, (1n << 64n) - 1n);
  assert.throws(() => parseTestFile('-- asm\nexit\n'), /no -- result/);
  assert.throws(() => parseTestFile('-- result\n1\n'), /no -- asm/);
  assert.throws(() => parseHexBytes('0g'), /invalid hex/);
});

test('the plugin reports errors on stderr with a non-zero status', async () => {
  const bad = await plugin([''], 'b7 00 00\n');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /multiple of 8/);
  const opt = await plugin(['--bogus'], '95 00 00 00 00 00 00 00\n');
  assert.equal(opt.status, 2);
  const fault = await plugin([''], '79 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00\n'); // r0 = *(u64 *)(r1 + 0) with r1 = 0
  assert.equal(fault.status, 1);
  assert.match(fault.stderr, /invalid read of 8 bytes at 0x0/);
});

// The rest reads ../shared/bpf-conformance: one skip, with the reason, where it is missing.
describe('the bpf_conformance suite', { skip: CONFORMANCE_MISSING }, () => {
  test('the suite is all there: 313 tests', () => {
    assert.equal(suite.length, 313);
    assert.ok(suite.some((t) => t.name === 'callx'));
  });

  test('every test passes in the interpreter, assembled by our assembler, and the assembly matches the reference bytecode', () => {
    const engine = new Interpreter();
    const failures: string[] = [];
    for (const t of suite) {
      const o = runTest(t, engine);
      if (!o.pass) failures.push(`${t.name}: ${o.message}`);
      const ref = readFileSync(`${CONFORMANCE_DIR}/bytecode/${t.name}.hex`, 'utf8');
      assert.equal(toHex(testProgram(t)), toHex(fromHex(ref)), `${t.name}: assembled bytes differ from bytecode/${t.name}.hex`);
    }
    assert.deepEqual(failures, []);
  });

  test('the plugin protocol, in-process, for all 313 tests with the runner\'s argument shapes', async () => {
    const failures: string[] = [];
    for (const t of suite) {
      const hex = readFileSync(`${CONFORMANCE_DIR}/bytecode/${t.name}.hex`, 'utf8').trim();
      // the runner passes the memory (possibly empty) and the plugin options as two arguments
      const r = await plugin([runnerMem(t.mem), '--interpret'], `${hex}\n`);
      if (r.status !== 0 || BigInt(`0x${r.stdout.trim()}`) !== t.result) failures.push(`${t.name}: status ${r.status} ${r.stdout}${r.stderr}`);
    }
    assert.deepEqual(failures, []);
  });

  test('bin/tsbpf conformance runs the whole suite: 313 passed, 0 failed', { skip: !existsSync(BIN) && 'bin/tsbpf missing' }, () => {
    const r = spawnSync(process.execPath, [BIN, 'conformance'], { encoding: 'utf8', cwd: '/' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.at(-1), '313 passed, 0 failed');
    const f = spawnSync(process.execPath, [BIN, 'conformance', '--filter', '^lock_', '-j'], { encoding: 'utf8' });
    const j = JSON.parse(f.stdout) as { passed: number; failed: number; engine: string };
    assert.equal(j.failed, 0);
    assert.equal(j.passed, 20);
    assert.equal(j.engine, 'interpreter');
  });

  test('bin/tsbpf-conformance-plugin as a process: memory, callx, lddw, errors', () => {
    // Spawning a process per test costs ~0.1-0.3 s here; .ci/suites/10-conformance.sh
    // spawns the plugin for every one of the 313 tests. Here a sample covers the protocol.
    for (const name of ['callx', 'mem-len', 'lddw', 'ldxb-all', 'call_local', 'lock_cmpxchg', 'subnet', 'exit']) {
      const t = suite.find((x) => x.name === name)!;
      const hex = readFileSync(`${CONFORMANCE_DIR}/bytecode/${name}.hex`, 'utf8').trim();
      const r = spawnSync(process.execPath, [PLUGIN, runnerMem(t.mem), ''], { input: `${hex}\n`, encoding: 'utf8' });
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, /^[0-9a-f]+\n$/);
      assert.equal(BigInt(`0x${r.stdout.trim()}`), t.result, name);
    }
    const r = spawnSync(process.execPath, [PLUGIN], { input: '85 00 00 00 63 00 00 00 95 00 00 00 00 00 00 00\n', encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown#99/);
    assert.equal(r.stdout, '');
  });
});
