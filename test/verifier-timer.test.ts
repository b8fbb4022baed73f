/**
 * bpf_timer (src/verifier/timer.ts). The kernel's verdicts on the C programs
 * of test/real-progs/timer_*.c are recorded (test/real-progs.test.ts holds
 * tsbpf to them); here: the async callback's own state (its arguments, its
 * return value, its fresh stack), a callback that re-arms itself, the
 * stack-depth roots, what is refused as unsupported, and the runtime's
 * refusal to load what it cannot run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { verify, type VerifierMapInfo } from '../src/verifier/index.js';
import { assemble } from '../src/isa/asm/index.js';
import { checkMaxStackDepth } from '../src/verifier/stack-depth.js';
import { Runtime } from '../src/runtime/index.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { TsbpfError } from '../src/errors.js';
import { DIR } from './real-progs/corpus.js';

/** a hash of 32-byte values with a bpf_timer at 8 */
const TIMED: VerifierMapInfo = { name: 'flows', type: 'hash', keySize: 4, valueSize: 32, maxEntries: 8, flags: 0, btf: true, fields: { timer: 8 } };
const FUNC_INFO = [{ insnOff: 0, typeId: 1 }];

/** main: look up key 0, init the timer, set `cb` (the code after the main program's exit) as its callback */
const prog = (cb: string, init = 'r2 = map[fd:0]') => assemble(`
  *(u32 *)(r10 -4) = 0
  r2 = r10
  r2 += -4
  r1 = map[fd:0]
  call bpf_map_lookup_elem
  if r0 == 0x0 goto out
  r6 = r0
  r6 += 8
  r1 = r6
  ${init}
  r3 = 1
  call bpf_timer_init
  *(u64 *)(r10 -16) = r6
  r1 = r6
  r2 = func[cb]
  call bpf_timer_set_callback
out:
  r0 = 0
  exit
cb:
${cb}`);
const judge = (cb: string, init?: string, maps: VerifierMapInfo[] = [TIMED]) =>
  verify({ insns: prog(cb, init), progType: 'sched_cls', maps, funcInfo: FUNC_INFO });

test('the callback runs with the map, a key and a value of it, and must return 0', () => {
  // the value is the map's (32 bytes, its timer off limits), the key 4 bytes
  assert.equal(judge('  r1 = *(u32 *)(r2 +0)\n  *(u64 *)(r3 +24) = r1\n  r0 = 0\n  exit').ok, true);
  assert.match(judge('  r1 = *(u64 *)(r3 +32)\n  r0 = 0\n  exit').error!.kernelMessage, /invalid access to map value, value_size=32 off=32 size=8/);
  assert.match(judge('  r1 = *(u64 *)(r3 +8)\n  r0 = 0\n  exit').error!.kernelMessage, /bpf_timer cannot be accessed directly by load/);
  assert.match(judge('  r1 = *(u64 *)(r2 +0)\n  r0 = 0\n  exit').error!.kernelMessage, /invalid access to map key, key_size=4 off=0 size=8/);
  // R1 is the map itself: it can be looked up in
  assert.equal(judge('  *(u32 *)(r10 -4) = 0\n  r2 = r10\n  r2 += -4\n  call bpf_map_lookup_elem\n  r0 = 0\n  exit').ok, true);
  // check_return_code's async callback case: [0, 0], not a sync callback's [0, 1]
  assert.equal(judge('  r0 = 1\n  exit').error!.kernelMessage, 'At async callback return the register R0 has smin=1 smax=1 should have been in [0, 0]');
  assert.match(judge('  r0 = r3\n  exit').error!.kernelMessage, /At async callback return the register R0 is not a known value \(map_value/);
  // its stack is its own, fresh: the pointer the caller spilled at fp-16 is not there
  assert.match(judge('  r1 = *(u64 *)(r10 -16)\n  r1 = *(u64 *)(r1 +0)\n  r0 = 0\n  exit').error!.kernelMessage, /R1 invalid mem access 'scalar'/);
});

test('bpf_timer_init takes the timer\'s own map; the timer must be at its offset in a value that has one', () => {
  const other: VerifierMapInfo = { ...TIMED, name: 'other' };
  assert.equal(judge('  r0 = 0\n  exit', 'r2 = map[fd:1]', [TIMED, other]).error!.kernelMessage,
    "timer pointer in R1 map_uid=0 doesn't match map pointer in R2 map_uid=0");
  const untimed: VerifierMapInfo = { ...TIMED, fields: { spinLock: 0 } };
  assert.equal(judge('  r0 = 0\n  exit', undefined, [untimed]).error!.kernelMessage, "map 'flows' has no valid bpf_timer");
  const noBtf: VerifierMapInfo = { ...TIMED, btf: false, fields: undefined };
  assert.equal(judge('  r0 = 0\n  exit', undefined, [noBtf]).error!.kernelMessage, "map 'flows' has to have BTF in order to use bpf_timer");
  const later: VerifierMapInfo = { ...TIMED, fields: { timer: 16 } };
  assert.equal(judge('  r0 = 0\n  exit', undefined, [later]).error!.kernelMessage, "off 8 doesn't point to 'struct bpf_timer' that is at 16");
});

test('a callback that re-arms itself is explored once per map, and an unbounded chain still ends', () => {
  const rearm = `
  r6 = r3
  r6 += 8
  r1 = r6
  r2 = func[cb]
  call bpf_timer_set_callback
  r1 = r6
  r2 = 1000
  r3 = 0
  call bpf_timer_start
  r0 = 0
  exit`;
  const r = judge(rearm);
  assert.equal(r.ok, true, r.log);
  // the main program (18 instructions on its longest path) and one exploration of the callback (11)
  assert.ok(r.stats.processedInsns <= 18 + 11 + 6, `processed ${r.stats.processedInsns}`);
});

test('an async callback is a stack root of its own unless called directly (check_max_stack_depth)', () => {
  // main (0..2) references the callback at 3 by ld_imm64; each uses 400 bytes
  const insns = assemble(`
    r2 = func[cb]
    r0 = 0
    exit
  cb:
    r0 = 0
    exit`);
  const depth = () => 400;
  assert.equal(checkMaxStackDepth(insns, [0, 4], depth, false, new Set([4])), undefined);
  // as a synchronous callback (bpf_loop's), the chain is 800 bytes
  assert.match(checkMaxStackDepth(insns, [0, 4], depth)!.message, /combined stack size of 2 calls is 800/);
  // called directly, it counts in the caller's chain even when async
  const direct = assemble(`
    call cb
    r2 = func[cb]
    r0 = 0
    exit
  cb:
    r0 = 0
    exit`);
  assert.match(checkMaxStackDepth(direct, [0, 5], depth, false, new Set([5]))!.message, /combined stack size of 2 calls is 800/);
});

test('tracing programs may not use a map holding a timer; an inner map\'s timer is unsupported', () => {
  const r = verify({ insns: prog('  r0 = 0\n  exit'), progType: 'kprobe', maps: [TIMED], funcInfo: FUNC_INFO });
  assert.equal(r.error!.kernelMessage, 'tracing progs cannot use bpf_timer yet');
  // a map of maps whose inner template holds the timer: Linux tells inner maps apart by map_uid
  const outer: VerifierMapInfo = { name: 'outer', type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, inner: TIMED };
  const mim = assemble(`
    *(u32 *)(r10 -4) = 0
    r2 = r10
    r2 += -4
    r1 = map[fd:0]
    call bpf_map_lookup_elem
    if r0 == 0x0 goto out
    r7 = r0
    r1 = r0
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem
    if r0 == 0x0 goto out
    r1 = r0
    r1 += 8
    r2 = r7
    r3 = 1
    call bpf_timer_init
  out:
    r0 = 0
    exit`);
  const u = verify({ insns: mim, progType: 'sched_cls', maps: [outer] });
  assert.equal(u.error!.errno, 'ENOTSUPP');
  assert.match(u.error!.kernelMessage, /bpf_timer in an inner map .* is not supported by tsbpf/);
});

test('a Runtime refuses to load a timer program with ENOTSUPP naming the helper (timers do not run yet)', async () => {
  using rt = new Runtime();
  await assert.rejects(rt.load(loadObjectFileSync(join(DIR, 'timer_arm.o'))), (e: unknown) =>
    e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /bpf_timer_init#169 is known to the verifier but not implemented/.test(e.message));
});
