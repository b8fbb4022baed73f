import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { enableProbeHelpers, funcIp, uprobe, uretprobe } from '../src/hooks/uprobe.js';
import { PT_REGS } from '../src/uapi/ctx.js';
import { TsbpfError } from '../src/errors.js';
import { ROOT } from './paths.js';

const OBJ = resolve(ROOT, 'examples/func_probe.o');

function lastCall(coll: Awaited<ReturnType<typeof loadCollectionFile>>) {
  const b = coll.map('last').get(0) as Uint8Array;
  const v = new DataView(b.buffer, b.byteOffset);
  const s = b.subarray(40, 72);
  const n = s.indexOf(0);
  return { a: v.getBigUint64(0, true), b: v.getBigUint64(8, true), ret: v.getBigUint64(16, true), pidTgid: v.getBigUint64(24, true), ts: v.getBigUint64(32, true), s: new TextDecoder().decode(s.subarray(0, n < 0 ? 32 : n)) };
}
const calls = (coll: Awaited<ReturnType<typeof loadCollectionFile>>, ip: bigint): bigint | undefined => {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setBigUint64(0, ip, true);
  const v = coll.map('calls').get(k) as Uint8Array | undefined;
  return v ? new DataView(v.buffer, v.byteOffset).getBigUint64(0, true) : undefined;
};

class Shop {
  total = 0;
  price(qty: number, unit: bigint, label: string): number {
    this.total += qty;
    return unit > 0n ? qty * 10 - 1 : 0;
  }
}

test('uprobe and uretprobe on a method: arguments, strings, return value, func ip, pid/tgid, time', async () => {
  const rt = enableProbeHelpers(new Runtime());
  const coll = await loadCollectionFile(OBJ, rt);
  const shop = new Shop();
  const before = Shop.prototype.price;
  const le = coll.program('on_entry').attach(uprobe(Shop.prototype, 'price'));
  const lr = coll.program('on_return').attach(uretprobe(Shop.prototype, 'price'));
  assert.notEqual(Shop.prototype.price, before, 'the method is wrapped while probed');
  assert.equal(Shop.prototype.price.name, 'price');
  const t0 = rt.host.clock.monotonicNs();
  assert.equal(shop.price(3, 7n, 'apples'), 29);
  assert.equal(shop.total, 3, 'the original ran with the right this');
  let c = lastCall(coll);
  assert.equal(c.a, 3n);
  assert.equal(c.b, 7n);
  assert.equal(c.s, 'apples');
  assert.equal(c.ret, 29n);
  assert.equal(c.pidTgid, (BigInt(process.pid) << 32n) | BigInt(process.pid));
  assert.ok(c.ts >= t0);
  assert.equal(new Shop().price(-2, 2n ** 64n + 5n, 'a much longer label than the 32-byte buffer holds'), -21);
  c = lastCall(coll);
  assert.equal(c.a, 2n ** 64n - 2n, 'negative integers as two\'s complement');
  assert.equal(c.b, 5n, 'bigints modulo 2^64');
  assert.equal(c.s, 'a much longer label than the 32', 'bpf_probe_read_user_str cuts at the buffer size');
  assert.equal(c.ret, 2n ** 64n - 21n);
  assert.equal(calls(coll, funcIp(Shop.prototype, 'price')), 2n);
  le.detach();
  lr.detach();
  assert.equal(Shop.prototype.price, before, 'the original is back after the last detach');
  shop.price(1, 1n, 'x');
  assert.equal(calls(coll, funcIp(Shop.prototype, 'price')), 2n);
  rt.close();
});

test('probing a plain object function; each function has its own ip; frozen targets are refused', async () => {
  const rt = enableProbeHelpers(new Runtime());
  const coll = await loadCollectionFile(OBJ, rt);
  const api = { add: (a: number, b: number) => a + b, mul: (a: number, b: number) => a * b };
  const l1 = coll.program('on_entry').attach(uprobe(api, 'add'));
  const l2 = coll.program('on_entry').attach(uprobe(api, 'mul'));
  const captured = api.add;
  for (let i = 0; i < 5; i++) api.add(i, 1);
  api.mul(2, 3);
  assert.equal(calls(coll, funcIp(api, 'add')), 5n);
  assert.equal(calls(coll, funcIp(api, 'mul')), 1n);
  assert.notEqual(funcIp(api, 'add'), funcIp(api, 'mul'));
  l1.detach();
  l2.detach();
  captured(1, 1); // a reference taken while probed still works
  const frozen = Object.freeze({ f: () => 1 });
  assert.throws(() => coll.program('on_entry').attach(uprobe(frozen, 'f')), (e: unknown) => e instanceof TsbpfError && e.errno === 'EPERM');
  assert.equal(frozen.f(), 1);
  assert.throws(() => uprobe(api, 'nope'), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  assert.equal(PT_REGS.rdi, 112);
  rt.close();
});
