/**
 * The engines' 32-bit fast path (HelperDef.fn32) for the stock
 * bpf_map_lookup_elem (the JIT's h.1_32 import, the interpreter's direct
 * call): same results and errors as the i64 helper ABI, and only for a
 * helper that has one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insn, lddw, type Insn } from '../src/isa/insn.js';
import * as op from '../src/isa/opcodes.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import { helper } from '../src/helpers/def.js';
import { mapHelpers } from '../src/helpers/maps.js';
import { HelperError } from '../src/vm/fault.js';
import type { Engine, ProgramImage } from '../src/vm/engine.js';
import { JitEngine, JitExecutable } from '../src/vm/jit/index.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { BPF_FUNC } from '../src/uapi/helper-ids.js';

const space = new AddressSpace({ initialPages: 32 });
const MAP = 0x2000;
const lookups: Array<[number, number]> = [];
// A map whose lookup answers key address + 8 for key value 7, else NULL.
const fakeMap = {
  lookup(key: number, cpu: number): number {
    lookups.push([key, cpu]);
    return space.readU32(key) === 7 ? key + 8 : 0;
  },
};
const run = { host: { mapAt: (a: number) => (a === MAP ? fakeMap : undefined) } };

/** *(u32 *)(r10 - 8) = key; r1 = map; r2 = r10 - 8; call 1; exit */
function prog(key: number, map: bigint): Insn[] {
  return [
    insn(op.BPF_ST | op.BPF_MEM | op.BPF_W, 10, 0, -8, key),
    ...lddw(1, map),
    insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, 2, 10),
    insn(op.BPF_ALU64 | op.BPF_ADD | op.BPF_K, 2, 0, 0, -8),
    insn(op.OP_CALL, 0, 0, 0, 1),
    insn(op.OP_EXIT),
  ];
}

const engines: Engine[] = [new Interpreter(), new JitEngine()];
const image = (insns: Insn[], helpers: HelperRegistry, verified = true): ProgramImage => ({ name: 'lookup', insns, helpers, space, verified });

test('stock map_lookup_elem: value address or NULL, the run CPU, in both engines and both JIT variants', () => {
  const helpers = new HelperRegistry(mapHelpers);
  for (const e of engines) {
    for (const verified of [true, false]) {
      lookups.length = 0;
      const exe = e.prepare(image(prog(7, BigInt(MAP)), helpers, verified));
      if (exe instanceof JitExecutable) assert.ok(exe.compiled.fast32Ids.includes(1), 'the stock helper gets the i32 import');
      const hit = exe.run({ cpu: 1, run });
      assert.equal(lookups.length, 1);
      const [key, cpu] = lookups[0]!;
      assert.equal(cpu, 1);
      assert.equal(hit, BigInt(key + 8), `${e.kind} verified=${verified}`);
      assert.equal(e.prepare(image(prog(8, BigInt(MAP)), helpers, verified)).run({ run }), 0n);
    }
  }
});

test('stock map_lookup_elem: a pointer that is no map, or has high bits set, is a typed helper error (EFAULT)', () => {
  const helpers = new HelperRegistry(mapHelpers);
  for (const e of engines) {
    for (const map of [0x3000n, (1n << 32n) | BigInt(MAP)]) {
      lookups.length = 0;
      const exe = e.prepare(image(prog(7, map), helpers));
      assert.throws(
        () => exe.run({ run }),
        (err: unknown) => err instanceof HelperError && err.errno === 'EFAULT' && /not a map pointer/.test(err.message),
        `${e.kind} ${map.toString(16)}`,
      );
      assert.equal(lookups.length, 0);
    }
  }
});

test('a registry with its own helper 1 keeps it (no fast path)', () => {
  const seen: bigint[] = [];
  const helpers = new HelperRegistry([
    helper(BPF_FUNC.map_lookup_elem, (_env, r1) => {
      seen.push(r1);
      return 42n;
    }),
  ]);
  for (const e of engines) {
    seen.length = 0;
    const exe = e.prepare(image(prog(7, BigInt(MAP)), helpers));
    if (exe instanceof JitExecutable) assert.deepEqual(exe.compiled.fast32Ids, []);
    assert.equal(exe.run({ run }), 42n, e.kind);
    assert.deepEqual(seen, [BigInt(MAP)]);
  }
});
