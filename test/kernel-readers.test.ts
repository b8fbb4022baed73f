/**
 * When a kernel reader delivers: records already waiting in a ring buffer
 * when a callback reader is made reach the callback on the event loop's
 * next turn, never from the constructor, so the callback may use the
 * variable the reader is being assigned to (`const r = new
 * KernelRingBufReader(map, { onRecord: () => r.close() })`). As root; skips
 * with the reason elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Cleanup, kernelSkip } from './kernel-support.js';
import { FIXTURES } from './paths.js';
import { loadObjectFile } from '../src/object/file.js';
import { KernelRuntime, KernelRingBufReader } from '../src/kernel/index.js';

test('kernel ring buffer reader: waiting records reach the callback after the constructor returns', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const rt = new KernelRuntime();
  const undo = new Cleanup();
  try {
    const c = await rt.load(await loadObjectFile(join(FIXTURES, 'tracer_ringbuf.o')), { programs: ['trace_openat'] });
    undo.add(() => c.close());
    // records of this process's own openat() calls wait in the ring before any reader exists
    const link = c.program('trace_openat').attach();
    for (let i = 0; i < 4; i++) closeSync(openSync('/proc/self/stat', 'r'));
    link.detach();
    const events = c.map('events');
    const seen: number[] = [];
    let fromCallback: unknown;
    const done = new Promise<void>((resolve) => {
      const reader: KernelRingBufReader = new KernelRingBufReader(events, {
        onRecord: (rec) => {
          try {
            // the binding is used here: from the constructor this would be a ReferenceError
            seen.push(reader.records, new DataView(rec.buffer, rec.byteOffset).getUint32(0, true));
            reader.close();
          } catch (e) {
            fromCallback = e;
          }
          resolve();
        },
      });
      undo.add(() => reader.close());
      assert.equal(reader.records, 0, 'nothing consumed by the constructor');
      assert.ok(reader.available > 0, 'records were waiting');
    });
    await done;
    assert.equal(fromCallback, undefined);
    assert.equal(seen[0], 1, 'the first record, delivered after construction');
    assert.ok(seen[1]! > 0, 'a pid from the record');
  } finally {
    undo.run();
    rt.close();
  }
});
