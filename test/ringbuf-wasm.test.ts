/**
 * The JIT's WebAssembly bpf_ringbuf_output (helpers/ringbuf-wasm.ts) against
 * the JS producer (RingBuf.output, which the interpreter uses): the same
 * programs run on both engines must leave the same bytes in the ring's block
 * (headers with pg_off, samples, producer/consumer/pending positions,
 * counters), through wrap-around, records crossing the end, a full ring,
 * discarded and busy records, wakeup flags and a reader consuming between
 * runs; and the producer must never write outside its ring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/index.js';
import { Runtime } from '../src/runtime/index.js';
import { ringbufOutputWasm } from '../src/helpers/ringbuf-wasm.js';
import { RingBufReader, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP } from '../src/maps/index.js';
import { DATA_OFF, DESC_RINGBUF_CTRL, RB } from '../src/memory/ringbuf-layout.js';
import { both, consumeBoth, load, mapRef, side } from './support/ringbuf-sides.js';
import { AddressSpace } from '../src/memory/address-space.js';

/** bpf_ringbuf_output(&rb, stack buffer of `size` bytes filled with `tag`-derived words, size, flags); r0 = its result */
const outputSrc = (size: number, flags: number, tag: number): string => {
  const words = Math.ceil(size / 8);
  const fill = Array.from({ length: words }, (_, k) => `r2 = ${(tag * 1000 + k) | 0}\n*(u64 *)(r10 -${(words - k) * 8}) = r2`).join('\n');
  return `${fill}
    r1 = 0 ll
    r2 = r10
    r2 += -${words * 8}
    r3 = ${size}
    r4 = ${flags}
    call 130
    exit`;
};

/** reserve(size), then output(inner), then discard or submit the reserved record: a busy record while the output runs */
const heldSrc = (size: number, inner: number, discard: boolean): string => `
    r1 = 0 ll
    r2 = ${size}
    r3 = 0
    call 131
    if r0 != 0 goto +2
    r0 = 1
    exit
    r6 = r0
    r1 = 0x5a5a5a5a ll
    *(u64 *)(r6 +0) = r1
    *(u64 *)(r10 -8) = r1
    *(u64 *)(r10 -16) = r1
    r1 = 0 ll
    r2 = r10
    r2 += -16
    r3 = ${inner}
    r4 = 0
    call 130
    r1 = r6
    r2 = 0
    call ${discard ? 133 : 132}
    r0 = 0
    exit`;

test('wasm ringbuf_output: the same bytes as the JS producer through wrap-around, records crossing the end and a full ring', async () => {
  const js = await side('interpreter');
  const wasm = await side('jit');
  const sizes = [16, 1, 13, 200, 496, 8, 504, 3];
  let full = 0;
  let tag = 1;
  for (let round = 0; round < 10; round++) {
    for (const size of sizes) {
      const r0 = await both(js, wasm, outputSrc(size, BPF_RB_NO_WAKEUP, tag++ % 20), `round ${round}, ${size} bytes`);
      if (r0 !== 0) {
        assert.equal(r0, 0xfffffff5, '-EAGAIN when the ring is full');
        full++;
      }
    }
    // a reader that drains part of the ring between runs, so positions go round the end at every offset
    consumeBoth(js, wasm, round % 4 === 3 ? Infinity : 2);
  }
  assert.ok(full > 0, 'the ring filled up at least once');
  assert.ok(wasm.rb.producerPos > 2 * 4096, 'the producer went round the ring more than twice');
  assert.equal(wasm.rb.stats.dropped, full);
  // The WebAssembly producer did the work: NO_WAKEUP never needs JS.
  assert.equal(wasm.calls.n, 0, 'no JS call from the JIT');
  assert.ok(js.calls.n > 0, 'the interpreter went through the JS helper');
  js.rt.close();
  wasm.rt.close();
});

test('wasm ringbuf_output: wakeups and their flags as the kernel (caught-up reader, NO_WAKEUP, FORCE_WAKEUP); bad flags are EINVAL', async () => {
  const js = await side('interpreter');
  const wasm = await side('jit');
  const settle = () => new Promise((r) => setTimeout(r, 0));
  // caught-up reader: the record wakes it (the JIT takes the JS helper for that one)
  await both(js, wasm, outputSrc(16, 0, 1), 'first record');
  await both(js, wasm, outputSrc(16, 0, 2), 'reader behind: no wakeup');
  await both(js, wasm, outputSrc(16, BPF_RB_FORCE_WAKEUP, 3), 'FORCE_WAKEUP');
  await settle();
  assert.equal(wasm.wakes.n, js.wakes.n);
  assert.equal(wasm.rb.stats.wakeups, 2);
  assert.equal(wasm.calls.n, 2, 'the two records that wake go through JS, the other stays in WebAssembly');
  consumeBoth(js, wasm);
  await both(js, wasm, outputSrc(16, BPF_RB_NO_WAKEUP, 4), 'NO_WAKEUP with the reader caught up');
  await both(js, wasm, outputSrc(16, BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP, 5), 'both flags');
  await settle();
  assert.equal(wasm.rb.stats.wakeups, js.rb.stats.wakeups);
  assert.equal(wasm.rb.stats.noWakeup, 2);
  assert.equal(wasm.rb.stats.forceWakeup, 2);
  assert.equal(await both(js, wasm, outputSrc(16, 4, 6), 'unknown flag'), 0xffffffea, '-EINVAL');
  // an async reader on the JIT's ring wakes for the record that finds it caught up
  consumeBoth(js, wasm);
  const got: number[] = [];
  const loop = (async () => {
    const r = new RingBufReader(wasm.rb);
    for await (const rec of r) {
      got.push(rec[0]!);
      if (got.length === 2) break;
    }
    r.close();
  })();
  await settle();
  const one = outputSrc(8, 0, 0);
  await load(wasm, one);
  assert.equal(wasm.run(one), 0, 'wakes the waiting reader');
  await settle();
  assert.equal(wasm.run(one), 0);
  await loop;
  assert.equal(got.length, 2);
  js.rt.close();
  wasm.rt.close();
});

test('wasm ringbuf_output: discarded and still-busy records are walked past and waited for as the kernel does', async () => {
  const js = await side('interpreter');
  const wasm = await side('jit');
  // a busy record ahead: the output may not get size-1 bytes past it (pending_pos)
  for (let i = 0; i < 6; i++) await both(js, wasm, heldSrc(600, 16, i % 2 === 0), `held record ${i}`);
  consumeBoth(js, wasm);
  assert.ok(wasm.reader.discarded > 0 && wasm.reader.discarded === js.reader.discarded);
  // fill behind a busy record until the output fails: the room is counted from the busy record
  for (let i = 0; i < 9; i++) await both(js, wasm, heldSrc(400, 16, false), `fill ${i}`);
  js.rt.close();
  wasm.rt.close();
});

/** A bare space with a ring's control block and a descriptor, for calling the producer directly. */
function bare(ringSize: number) {
  const space = new AddressSpace();
  const desc = space.alloc(296);
  const ctrl = space.alloc(DATA_OFF + 2 * ringSize + 4096, 64);
  space.writeU32(desc + 12, ringSize);
  space.writeU32(desc + DESC_RINGBUF_CTRL, ctrl);
  const fb = { n: 0 };
  const out = ringbufOutputWasm(space.memory, false, () => (fb.n++, -22));
  return { space, desc, ctrl, fb, out };
}

test('wasm ringbuf_output: sizes and positions that would reach outside the ring write nothing outside it', () => {
  const size = 4096;
  const { space, desc, ctrl, fb, out } = bare(size);
  const src = space.alloc(8192);
  space.u8.fill(0xab, src, src + 8192);
  const guard = ctrl + DATA_OFF + 2 * size;
  space.u8.fill(0xee, guard, guard + 4096);
  const pos = (w: number, v: bigint) => space.writeU64(ctrl + w * 4, v);
  // the reader not caught up (a record of 8 bytes sits there), so no wakeup call
  pos(RB.PROD, 16n);
  for (const n of [0xffffffff, 0x80000000, 0x7ffffff9, size, size - 1, size - 8]) {
    assert.equal(out(0, desc, src, n, 0), -11, `${n} bytes: -EAGAIN`);
  }
  // positions near 2^32 and 2^64: records still land at (pos & mask) inside the data area
  for (const base of [0xfffffff0n, 0xffffffff_fffff000n - 16n, 0x1_0000_0ff8n]) {
    pos(RB.CONS, base - 8n);
    pos(RB.PROD, base);
    pos(RB.PENDING, base);
    space.writeU32(ctrl + DATA_OFF + Number((base - 8n) & BigInt(size - 1)), 0); // the caught-up-avoiding record is committed
    let written = 0;
    for (let k = 0; k < 40; k++) {
      const r = out(0, desc, src, 100 + k, BPF_RB_NO_WAKEUP);
      if (r === 0) written++;
      const prod = space.readU64(ctrl + RB.PROD * 4);
      assert.ok(r === 0 || r === -11);
      assert.ok(prod - (base - 8n) < BigInt(size), 'never more than size-1 bytes ahead of the reader');
    }
    assert.ok(written >= 30, `records written from position 0x${base.toString(16)}`);
  }
  assert.equal(fb.n, 0);
  assert.ok(space.u8.subarray(guard, guard + 4096).every((b) => b === 0xee), 'nothing written past the data area');
  assert.ok(space.u8.subarray(ctrl - 64, ctrl).every((b) => b === 0), 'nothing written before the block');
  // not a ring (no control block in the descriptor): the JS helper answers
  const other = space.alloc(296);
  assert.equal(out(0, other, src, 8, 0), -22);
  assert.equal(fb.n, 1);
});

test('wasm ringbuf_output: the verifier bounds the size by the data the program may read', async () => {
  const rt = new Runtime({ engine: 'jit' });
  const rb = rt.createMap({ name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, pinning: 'none' });
  await assert.rejects(
    rt.loadProgram({ type: 'xdp', insns: mapRef(assemble(`r2 = 0\n*(u64 *)(r10 -8) = r2\nr1 = 0 ll\nr2 = r10\nr2 += -8\nr3 = 9\nr4 = 0\ncall 130\nexit`), rb.id) }),
    /invalid|access|stack|bounds/i,
  );
  rt.close();
});
