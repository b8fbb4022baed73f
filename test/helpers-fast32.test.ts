/**
 * The engines' 32-bit helper path (HelperDef.fn32) for the ring buffer
 * helpers: the interpreter and the JIT give the i64 ABI's results — a
 * negative errno sign-extended into r0, an argument past 32 bits taking the
 * i64 helper (flags refused) — and reserve/submit keep their record
 * bookkeeping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, OP_LDDW, BPF_PSEUDO_MAP_FD, type Insn } from '../src/isa/index.js';
import { Runtime } from '../src/runtime/index.js';
import { RingBufReader, type RingBuf } from '../src/maps/index.js';

/** The first `r1 = 0 ll` becomes the map's reference. */
function mapRef(insns: Insn[], id: number): Insn[] {
  const i = insns.find((x) => x.code === OP_LDDW)!;
  i.src = BPF_PSEUDO_MAP_FD;
  i.imm = id;
  return insns;
}

const output = (flags: string, tail: string): string => `
  r2 = 0x77
  *(u64 *)(r10 -8) = r2
  r1 = 0 ll
  r2 = r10
  r2 += -8
  r3 = 8
  r4 = ${flags}
  call 130
  ${tail}
  exit`;

for (const engine of ['interpreter', 'jit'] as const) {
  test(`${engine}: ringbuf_output's errno is sign-extended into r0; flags past 32 bits are EINVAL`, async () => {
    const rt = new Runtime({ engine });
    const rb = rt.createMap({ name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, pinning: 'none' });
    const load = async (src: string) => rt.loadProgram({ type: 'xdp', insns: mapRef(assemble(src), rb.id) });
    const hi = await load(output('0', 'r0 >>= 32'));
    const lo = await load(output('0', ''));
    const wide = await load(output('0x100000000 ll', ''));
    const data = new Uint8Array(64);
    // 16 bytes a record: 255 fit (the producer stays at most size-1 bytes ahead)
    for (let i = 0; i < 255; i++) assert.equal(lo.run({ data }).retval, 0);
    assert.equal(lo.run({ data }).retval, 0xfffffff5, '-EAGAIN when full');
    assert.equal(hi.run({ data }).retval, 0xffffffff, 'sign-extended to 64 bits');
    assert.equal(wide.run({ data }).retval, 0xffffffea, '-EINVAL: flags above 32 bits');
    const reader = new RingBufReader(rb as unknown as RingBuf);
    assert.equal(reader.read().length, 255);
    assert.equal((rb as unknown as RingBuf).stats.dropped, 2, 'the two full-ring outputs');
    reader.close();
    rt.close();
  });

  test(`${engine}: reserve and submit through the 32-bit path release the record they hold`, async () => {
    const rt = new Runtime({ engine });
    const rb = rt.createMap({ name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, pinning: 'none' });
    const p = await rt.loadProgram({
      type: 'xdp',
      insns: mapRef(
        assemble(`
          r1 = 0 ll
          r2 = 8
          r3 = 0
          call 131
          if r0 == 0 goto +7
          r1 = 0x0102030405060708 ll
          *(u64 *)(r0 +0) = r1
          r1 = r0
          r2 = 0
          call 132
          r0 = 1
          exit`),
        rb.id,
      ),
    });
    for (let i = 0; i < 3; i++) assert.equal(p.run({ data: new Uint8Array(64) }).retval, 1);
    const reader = new RingBufReader(rb as unknown as RingBuf);
    assert.deepEqual(reader.read().map((r) => Array.from(r)), Array.from({ length: 3 }, () => [8, 7, 6, 5, 4, 3, 2, 1]));
    reader.close();
    rt.close();
  });
}
