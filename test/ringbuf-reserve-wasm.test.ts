/**
 * The JIT's WebAssembly bpf_ringbuf_reserve / submit / discard
 * (helpers/ringbuf-reserve-wasm.ts) against the JS ring (RingBuf.reserve and
 * commit, which the interpreter uses): the same programs leave the same
 * bytes in the ring's block (busy and discard bits, pg_off, positions,
 * counters) through wrap-around and a full ring, with records committed out
 * of order, more records held than the WebAssembly slots keep, and wakeups;
 * a run stopped half-way gives its records back; and neither a block the
 * host corrupted nor a record address the code did not hand out makes the
 * producer loop for ever or write outside the ring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, OP_LDDW, BPF_PSEUDO_MAP_FD, type Insn } from '../src/isa/index.js';
import { Runtime } from '../src/runtime/index.js';
import { BPF_FUNC } from '../src/uapi/helper-ids.js';
import { RingBufReader, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP, type RingBuf } from '../src/maps/index.js';
import { DATA_OFF, DESC_RINGBUF_CTRL, RB } from '../src/memory/ringbuf-layout.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HELD_SLOTS, ringbufOpWasm } from '../src/helpers/ringbuf-reserve-wasm.js';
import type { ExecEnv } from '../src/vm/helper-abi.js';
import { both, consumeBoth, side } from './support/ringbuf-sides.js';

const RESERVE_OPS = [BPF_FUNC.ringbuf_reserve, BPF_FUNC.ringbuf_submit, BPF_FUNC.ringbuf_discard];
const sides = async (size = 4096) => ({ js: await side('interpreter', size, RESERVE_OPS), wasm: await side('jit', size, RESERVE_OPS) });

/** Stores that fill a record at r0 of `size` bytes with `tag`-derived values (u64 words, then bytes). */
function fill(size: number, tag: number): string {
  const out: string[] = [];
  for (let k = 0; k + 8 <= size; k += 8) out.push(`r2 = ${(tag * 1000 + k) | 0}`, `*(u64 *)(r0 +${k}) = r2`);
  for (let k = size & ~7; k < size; k++) out.push(`r2 = ${(tag + k) & 0xff}`, `*(u8 *)(r0 +${k}) = r2`);
  return out.join('\n');
}

/** reserve(size), fill it, then submit (or discard) with `flags`; r0 = 1 when the reserve failed */
const reserveSrc = (size: number, flags: number, discard: boolean, tag: number): string => `
    r1 = 0 ll
    r2 = ${size}
    r3 = 0
    call 131
    if r0 != 0 goto ok
    r0 = 1
    exit
  ok:
    ${fill(size, tag)}
    r1 = r0
    r2 = ${flags}
    call ${discard ? 133 : 132}
    r0 = 0
    exit`;

/**
 * n records of 16 bytes held at once (r6..r9, then the stack), committed in
 * reverse order with NO_WAKEUP, every other one discarded; a failed reserve
 * discards those already held.
 */
function manySrc(n: number, tag: number): string {
  const put = (i: number): string => (i < 4 ? `r${6 + i} = r0` : `*(u64 *)(r10 -${8 * (i - 3)}) = r0`);
  const get = (i: number): string => (i < 4 ? `r1 = r${6 + i}` : `r1 = *(u64 *)(r10 -${8 * (i - 3)})`);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push('r1 = 0 ll', 'r2 = 16', 'r3 = 0', 'call 131', `if r0 != 0 goto ok${i}`);
    for (let j = 0; j < i; j++) out.push(get(j), 'r2 = 0', 'call 133');
    out.push('r0 = 1', 'exit', `ok${i}:`, put(i), fill(16, tag + i));
  }
  for (let j = n - 1; j >= 0; j--) out.push(get(j), `r2 = ${BPF_RB_NO_WAKEUP}`, `call ${j % 2 ? 133 : 132}`);
  out.push('r0 = 0', 'exit');
  return out.join('\n');
}

test('wasm ringbuf_reserve/submit/discard: the same bytes as the JS ring through wrap-around and a full ring', async () => {
  const { js, wasm } = await sides();
  const sizes = [16, 1, 13, 200, 496, 8, 504, 3, 1000];
  let full = 0;
  let tag = 1;
  for (let round = 0; round < 12; round++) {
    for (const size of sizes) {
      const discard = (tag & 3) === 0;
      const r0 = await both(js, wasm, reserveSrc(size, BPF_RB_NO_WAKEUP, discard, tag++ % 50), `round ${round}, ${size} bytes${discard ? ', discarded' : ''}`);
      if (r0 === 1) full++;
    }
    consumeBoth(js, wasm, round % 4 === 3 ? Infinity : 2);
  }
  assert.ok(full > 0, 'the ring filled up at least once');
  assert.ok(wasm.rb.producerPos > 2 * 4096, 'the producer went round the ring more than twice');
  assert.equal(wasm.rb.stats.dropped, full);
  assert.ok(wasm.rb.stats.discarded > 0);
  assert.equal(wasm.calls.n, 0, 'reserve, submit and discard with NO_WAKEUP never leave WebAssembly');
  assert.ok(js.calls.n > 0, 'the interpreter went through the JS helpers');
  js.rt.close();
  wasm.rt.close();
});

test(`wasm ringbuf_reserve: more records held than its ${HELD_SLOTS} slots, committed out of order, go through JS for the rest`, async () => {
  const { js, wasm } = await sides();
  for (let round = 0; round < 8; round++) {
    await both(js, wasm, manySrc(HELD_SLOTS + 2, round * 10), `round ${round}`);
    consumeBoth(js, wasm, round % 3 === 2 ? Infinity : 3);
  }
  // per run: the two records past the slots are reserved and committed by the JS helpers
  assert.equal(wasm.calls.n, 8 * 2 * 2);
  assert.ok(wasm.rb.stats.discarded > 0 && wasm.rb.stats.discarded === js.rb.stats.discarded);
  js.rt.close();
  wasm.rt.close();
});

test('wasm ringbuf_submit/discard: wakeups as the kernel (caught-up reader, NO_WAKEUP, FORCE_WAKEUP)', async () => {
  const { js, wasm } = await sides();
  const settle = () => new Promise((r) => setTimeout(r, 0));
  await both(js, wasm, reserveSrc(16, 0, false, 1), 'caught-up reader: wakes');
  await both(js, wasm, reserveSrc(16, 0, false, 2), 'reader behind: no wakeup');
  await both(js, wasm, reserveSrc(16, BPF_RB_FORCE_WAKEUP, true, 3), 'FORCE_WAKEUP discard');
  await both(js, wasm, reserveSrc(16, BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP, false, 4), 'both flags');
  consumeBoth(js, wasm);
  await both(js, wasm, reserveSrc(16, BPF_RB_NO_WAKEUP, false, 5), 'NO_WAKEUP with the reader caught up');
  await both(js, wasm, reserveSrc(16, 4, false, 6), 'an unknown flag is ignored');
  await settle();
  assert.equal(wasm.wakes.n, js.wakes.n);
  assert.deepEqual({ ...wasm.rb.stats }, { ...js.rb.stats });
  assert.equal(wasm.rb.stats.wakeups, 3);
  // the three commits that wake go through JS; the reserves and the other commits do not
  assert.equal(wasm.calls.n, 3);
  js.rt.close();
  wasm.rt.close();
});

test('wasm ringbuf_reserve: runs stopped half-way give their records back, every time', async () => {
  const rt = new Runtime({ engine: 'jit' });
  const rb = rt.createMap({ name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, pinning: 'none' }) as unknown as RingBuf;
  const withRef = (insns: Insn[]): Insn[] => {
    for (const i of insns) if (i.code === OP_LDDW) (i.src = BPF_PSEUDO_MAP_FD), (i.imm = rb.id);
    return insns;
  };
  // two records reserved, a long loop, then both submitted: a deadline stops it in the loop
  const stuck = await rt.loadProgram({ type: 'xdp', insns: withRef(assemble(`
      r1 = 0 ll
      r2 = 8
      r3 = 0
      call 131
      if r0 == 0 goto out
      r6 = r0
      r1 = 0 ll
      r2 = 8
      r3 = 0
      call 131
      if r0 != 0 goto two
      r1 = r6
      r2 = 0
      call 133
      goto out
    two:
      r7 = r0
      r8 = 2000
    top:
      r8 -= 1
      if r8 != 0 goto top
      r1 = r6
      r2 = 0
      call 132
      r1 = r7
      r2 = 0
      call 132
    out:
      r0 = 2
      exit`)) });
  const ok = await rt.loadProgram({ type: 'xdp', insns: withRef(assemble(reserveSrc(8, 0, false, 7).replace(/r0 = 0\n\s*exit$/, 'r0 = 2\nexit'))) });
  const reader = new RingBufReader(rb);
  for (let round = 1; round <= 3; round++) {
    assert.throws(() => stuck.run({ data: new Uint8Array(64), deadline: { instructions: 1000 } }), /deadline|instructions/i);
    assert.equal(rb.stats.discarded, 2 * round, `round ${round}: both records discarded`);
    assert.equal(ok.run({ data: new Uint8Array(64) }).retval, 2);
    const got: number[] = [];
    reader.consume((b) => got.push(b[0]!));
    assert.deepEqual(got, [(7 * 1000) & 0xff], `round ${round}: the reader is not stalled`);
  }
  // a run that completes leaves nothing for its release to take
  assert.equal(stuck.run({ data: new Uint8Array(64) }).retval, 2);
  assert.equal(rb.stats.submitted, 3 + 2);
  assert.equal(rb.stats.discarded, 6);
  reader.close();
  rt.close();
});

/** A bare space with a ring's block between guard bytes and a descriptor, for calling the WebAssembly functions directly. */
function bare(ringSize: number) {
  const space = new AddressSpace();
  const desc = space.alloc(296);
  const lo = space.alloc(DATA_OFF + 2 * ringSize + 8192, 64);
  const ctrl = lo + 4096;
  space.writeU32(desc + 12, ringSize);
  space.writeU32(desc + DESC_RINGBUF_CTRL, ctrl);
  space.u8.fill(0xee, lo, ctrl);
  const end = ctrl + DATA_OFF + 2 * ringSize;
  space.u8.fill(0xee, end, end + 4096);
  const fb = { n: 0 };
  const held: Array<{ ring: { discard?: (rec: number, f: bigint) => void }; rec: number }> = [];
  const env = (): ExecEnv => ({ run: { host: { mapAt: () => undefined }, held } }) as unknown as ExecEnv;
  const [reserve, submit, discard] = (['reserve', 'submit', 'discard'] as const).map((op) => ringbufOpWasm(op)(space.memory, false, () => (fb.n++, 0), env));
  const guardsIntact = (): boolean => space.u8.subarray(lo, ctrl).every((b) => b === 0xee) && space.u8.subarray(end, end + 4096).every((b) => b === 0xee);
  return { space, desc, ctrl, fb, reserve: reserve!, submit: submit!, discard: discard!, guardsIntact };
}

test('wasm ringbuf_reserve: a block the host corrupted neither holds the producer in a loop nor lets it write outside the ring', () => {
  const size = 4096;
  const { space, desc, ctrl, fb, reserve, submit, discard, guardsIntact } = bare(size);
  const pos = (w: number, v: bigint) => space.writeU64(ctrl + w * 4, v);
  // pending_pos 2^40 bytes behind producer_pos over committed zero-length records: 2^37 steps unbounded
  pos(RB.CONS, 0n);
  pos(RB.PENDING, 0n);
  pos(RB.PROD, 1n << 40n);
  assert.equal(reserve(0, desc, 16, 0), 0, 'no room: NULL');
  assert.equal(space.readU32(ctrl + (RB.STATS + 2) * 4), 1, 'counted as dropped');
  // random positions and headers: every record handed out lies in the data area, and committing it writes only there
  let seed = 12345;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed);
  let handed = 0;
  for (let k = 0; k < 300; k++) {
    for (const w of [RB.CONS, RB.PROD, RB.PENDING]) if (rnd() % 4 === 0) pos(w, (BigInt(rnd()) << 32n) | BigInt(rnd()));
    for (let j = 0; j < 8; j++) space.writeU32(ctrl + DATA_OFF + ((rnd() % (2 * size)) & ~3), rnd());
    if (rnd() % 3 === 0) {
      // a sane position pair, so that some reservations succeed
      const p = BigInt(rnd()) * 8n;
      pos(RB.CONS, p);
      pos(RB.PENDING, p);
      pos(RB.PROD, p);
    }
    const n = rnd() % 3 === 0 ? rnd() : rnd() % 600;
    const rec = reserve(0, desc, n, 0) >>> 0;
    if (rec !== 0) {
      handed++;
      assert.ok(rec >= ctrl + DATA_OFF + 8 && rec + n <= ctrl + DATA_OFF + 2 * size, 'the record lies in the data area');
      space.u8.fill(0x5a, rec, rec + n);
      (rnd() & 1 ? submit : discard)(0, rec, BPF_RB_NO_WAKEUP);
    }
  }
  assert.ok(handed > 10, `records handed out (${handed})`);
  assert.ok(guardsIntact(), 'nothing written outside the ring block');
  void fb;
});

test('wasm ringbuf_submit/discard: an address it did not hand out goes to the JS helper and writes nothing', () => {
  const { space, desc, ctrl, fb, reserve, submit, discard, guardsIntact } = bare(4096);
  const before = space.u8.slice(ctrl - 4096, ctrl + DATA_OFF + 8192 + 4096);
  for (const forged of [0, 8, ctrl, ctrl + DATA_OFF + 8, ctrl + DATA_OFF + 16, 0xfffffff8]) {
    submit(0, forged, BPF_RB_NO_WAKEUP);
    discard(0, forged, BPF_RB_NO_WAKEUP);
  }
  assert.equal(fb.n, 12, 'each went to the JS helper');
  assert.deepEqual(space.u8.slice(ctrl - 4096, ctrl + DATA_OFF + 8192 + 4096), before, 'not a byte changed');
  // a record it did hand out is committed once; the second commit of the same address is not its own any more
  const rec = reserve(0, desc, 8, 0) >>> 0;
  assert.ok(rec !== 0);
  // (the reader is caught up with this record: without NO_WAKEUP the commit would go to JS to wake it)
  submit(0, rec, BPF_RB_NO_WAKEUP);
  assert.equal(space.readU32(rec - 8), 8, 'committed: busy bit clear');
  assert.equal(fb.n, 12);
  discard(0, rec, BPF_RB_NO_WAKEUP);
  assert.equal(fb.n, 13, 'the second commit went to JS');
  assert.equal(space.readU32(rec - 8), 8, 'and the WebAssembly code left the header alone');
  assert.ok(guardsIntact());
});
