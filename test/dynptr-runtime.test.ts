/**
 * Dynptrs at run time (helpers/dynptr.ts), in both engines: a variable-length ring buffer
 * record written through a ringbuf dynptr (test/real-progs/dynptr_ringbuf_record.c), an skb
 * dynptr's slices over a tc program's packet (dynptr_skb_tc.c), and the helpers' and kfuncs'
 * edge cases (NULL dynptrs, offsets past the size, adjust and clone), as kernel/bpf/helpers.c
 * gives them; bpf_user_ringbuf_drain, which tsbpf cannot run, is refused at load naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadObjectFile } from '../src/object/file.js';
import { RingBufReader } from '../src/maps/index.js';
import { ROOT } from './paths.js';

const DIR = join(ROOT, 'test/real-progs');
const ENGINES = ['jit', 'interpreter'] as const;

for (const engine of ENGINES) {
  test(`${engine}: a ringbuf dynptr record holds the header and the packet's first bytes (dynptr_ringbuf_record.o)`, async () => {
    const rt = new Runtime({ engine });
    try {
      const coll = await rt.load(await loadObjectFile(join(DIR, 'dynptr_ringbuf_record.o')));
      const prog = coll.program('dynptr_ringbuf_record');
      const reader = new RingBufReader(coll.map('records', 'ringbuf'));
      for (const len of [14, 31, 32, 60]) {
        const data = Uint8Array.from({ length: len }, (_, k) => (k * 7 + len) & 0xff);
        assert.equal(prog.run({ data }).retval, 2, `len ${len}: XDP_PASS`);
        const got: Uint8Array[] = [];
        reader.consume((b) => got.push(b.slice()));
        assert.equal(got.length, 1, `len ${len}: one record`);
        const rec = got[0]!, dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
        const snap = Math.min(len, 32);
        assert.equal(dv.getUint32(0, true), len, 'hdr.len');
        assert.equal(dv.getUint32(4, true), snap, 'hdr.snap');
        // the snap bytes: the packet's when it has 32 of them, zeroes otherwise; the record is
        // header + (snap & 31) bytes, so a full 32-byte snap writes no payload
        const payload = rec.subarray(8, 8 + (snap & 31));
        assert.deepEqual([...payload], len >= 32 ? [...data.subarray(0, snap & 31)] : new Array(snap & 31).fill(0));
      }
      reader.close();
      coll.close();
    } finally {
      rt.close();
    }
  });

  test(`${engine}: skb dynptr slices read the Ethernet and IPv4 headers (dynptr_skb_tc.o)`, async () => {
    const rt = new Runtime({ engine });
    try {
      const coll = await rt.load(await loadObjectFile(join(DIR, 'dynptr_skb_tc.o')));
      const prog = coll.program('dynptr_skb_tc');
      const frame = (proto: number, ttl: number) => {
        const p = new Uint8Array(64);
        p[12] = proto >> 8; p[13] = proto & 0xff;
        p[14] = 0x45; p[14 + 8] = ttl;
        return p;
      };
      assert.equal(prog.run({ data: frame(0x0800, 1) }).retval, 2, 'IPv4 TTL 1: shot');
      assert.equal(prog.run({ data: frame(0x0800, 64) }).retval, 0, 'IPv4 TTL 64: ok');
      assert.equal(prog.run({ data: frame(0x86dd, 1) }).retval, 0, 'not IPv4');
      coll.close();
    } finally {
      rt.close();
    }
  });

  test(`${engine}: local dynptr helpers and kfuncs: write, read, data, adjust, size, clone, errors (dynptr_local_ops.o)`, async () => {
    const rt = new Runtime({ engine });
    try {
      const coll = await rt.load(await loadObjectFile(join(DIR, 'dynptr_local_ops.o')));
      const prog = coll.program('dynptr_local_ops');
      // every check of the program holds: write, -E2BIG past the size, the data slice, adjust
      // and size, a clone read, and -EINVAL for an adjust whose start passes its end
      for (const v of [0, 7, 200]) assert.equal(prog.run({ data: Uint8Array.from({ length: 64 }, (_, k) => (k ? k : v)) }).retval, 63, `value ${v}`);
      coll.close();
    } finally {
      rt.close();
    }
  });
}

test('bpf_user_ringbuf_drain cannot run: its BPF_MAP_TYPE_USER_RINGBUF map is refused, naming the type', () => {
  const rt = new Runtime();
  try {
    assert.throws(() => rt.createMap({ type: 'user_ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, name: 'user_rb', pinning: 'none' }),
      (e: unknown) => (e as { errno?: string }).errno === 'EOPNOTSUPP' && /user_ringbuf/.test((e as Error).message));
  } finally {
    rt.close();
  }
});
