/**
 * Hash maps probed in WebAssembly (src/helpers/hash-probe.ts): a JIT-compiled
 * program's bpf_map_lookup_elem/update/delete on a preallocated hash map run
 * without a call into JS, on the same table the host API and the
 * interpreter use. Each case compares the JIT with the interpreter (the JS
 * table) step by step: results, and the map's contents in walk order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime, type Program } from '../src/runtime/runtime.js';
import { assemble } from '../src/isa/asm.js';
import type { BpfMap } from '../src/maps/map.js';
import type { MapSpec } from '../src/object/spec.js';
import { BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, BPF_F_ZERO_SEED } from '../src/maps/flags.js';
import { HashMap } from '../src/maps/hash.js';
import { probeModuleBytes } from '../src/helpers/hash-probe.js';
import { xorshift32 } from './support/random.js';

const ENGINES = ['jit', 'interpreter'] as const;
const OP_LOOKUP = 0;
const OP_UPDATE = 1;
const OP_DELETE = 2;
const VALUE_SIZE = 12;

function spec(type: MapSpec['type'], keySize: number, maxEntries: number, flags = 0): MapSpec {
  return { name: 'h', type, keySize, valueSize: VALUE_SIZE, maxEntries, flags: flags | BPF_F_ZERO_SEED, pinning: 'none' };
}

/**
 * One map operation per run, from the packet: op at data+0, flags at +1, the
 * key at +8 (copied to the stack at r10-128), the value at +64 (copied to
 * r10-64). r0: the helper's result; a lookup returns the value's u32 at +8
 * (the bytes past the first 8, copied byte by byte), or 0xdead when absent.
 */
function opProgram(mapId: number, keySize: number): string {
  const copy = (from: number, to: number, n: number): string[] => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(`r1 = *(u8 *)(r6 +${from + i})`, `*(u8 *)(r10 ${to + i}) = r1`);
    return out;
  };
  return [
    'r6 = *(u32 *)(r1 +0)',
    'r7 = *(u32 *)(r1 +4)',
    'r2 = r6',
    'r2 += 96',
    'if r2 > r7 goto bad',
    ...copy(8, -128, keySize),
    ...copy(64, -64, VALUE_SIZE),
    'r8 = *(u8 *)(r6 +0)',
    'r9 = *(u8 *)(r6 +1)',
    'r2 = r10',
    'r2 += -128',
    `r1 = map[fd:${mapId}] ll`,
    'if r8 == 0 goto lookup',
    'if r8 == 1 goto update',
    'call 3',
    'exit',
    'lookup:',
    'call 1',
    'if r0 == 0 goto miss',
    'r0 = *(u32 *)(r0 +8)',
    'exit',
    'miss:',
    'r0 = 0xdead',
    'exit',
    'update:',
    'r3 = r10',
    'r3 += -64',
    'r4 = r9',
    'call 2',
    'exit',
    'bad:',
    'r0 = -1',
    'exit',
  ].join('\n');
}

interface Side {
  rt: Runtime;
  map: BpfMap<unknown>;
  prog: Program;
}

async function side(engine: (typeof ENGINES)[number], s: MapSpec): Promise<Side> {
  const rt = new Runtime({ engine });
  const map = rt.createMap(s);
  const prog = await rt.loadProgram({ name: 'op', type: 'xdp', expectedAttachType: 'xdp', insns: assemble(opProgram(map.id, s.keySize), { dialect: 'kernel' }) });
  return { rt, map, prog };
}

function packet(op: number, flags: number, key: Uint8Array, value: Uint8Array): Uint8Array {
  const p = new Uint8Array(96);
  p[0] = op;
  p[1] = flags;
  p.set(key, 8);
  p.set(value, 64);
  return p;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
function contents(m: BpfMap<unknown>): string[] {
  return [...m.entries()].map(([k, v]) => `${hex(k)}=${hex(v as Uint8Array)}`);
}

/** Count the JS program-side operations of hash maps while `fn` runs. */
function countJsOps(fn: () => void): number {
  // (HashBase's: the per-CPU kinds do not extend HashMap)
  const proto = Object.getPrototypeOf(HashMap.prototype) as Record<string, (...a: number[]) => number>;
  const names = ['lookupElem', 'updateElem', 'deleteElem'];
  const saved = names.map((n) => proto[n]!);
  let calls = 0;
  names.forEach((n, i) => {
    proto[n] = function (this: unknown, ...a: number[]): number {
      calls++;
      return saved[i]!.apply(this, a);
    };
  });
  try {
    fn();
  } finally {
    names.forEach((n, i) => (proto[n] = saved[i]!));
  }
  return calls;
}

const differential: Array<[MapSpec['type'], number]> = [
  ...[1, 3, 4, 5, 8, 13, 16, 40].map((k): [MapSpec['type'], number] => ['hash', k]),
  ...[1, 4, 13, 40].map((k): [MapSpec['type'], number] => ['lru_hash', k]),
];
for (const [type, keySize] of differential) {
  test(`${type}, key size ${keySize}: random lookups, updates (ANY/NOEXIST/EXIST, bad flags) and deletes agree with the JS table, host changes in between`, async () => {
    const maxEntries = 24;
    const lru = type === 'lru_hash';
    const jit = await side('jit', spec(type, keySize, maxEntries));
    const interp = await side('interpreter', spec(type, keySize, maxEntries));
    try {
      const r = xorshift32(keySize * 7919);
      const key = (): Uint8Array => {
        const k = new Uint8Array(keySize);
        const n = r() % 40; // more keys than max_entries: E2BIG happens
        k[0] = n;
        if (keySize > 1) k[keySize - 1] ^= n * 3;
        return k;
      };
      let seen2big = false;
      let evicted = 0;
      for (let step = 0; step < 700; step++) {
        const roll = r() % 100;
        if (roll < 5) {
          // the host changes the same table
          const k = key();
          const v = new Uint8Array(VALUE_SIZE).fill(step & 0xff);
          for (const s of [jit, interp]) {
            try {
              s.map.set(k, v);
            } catch {
              /* full: both sides throw */
            }
          }
        } else if (roll < 8) {
          const k = key();
          for (const s of [jit, interp]) {
            try {
              s.map.delete(k);
            } catch {
              /* absent on both */
            }
          }
        } else {
          const op = roll < 50 ? OP_LOOKUP : roll < 85 ? OP_UPDATE : OP_DELETE;
          const flags = r() % 9 === 0 ? 4 + (r() % 3) : r() % 3;
          const value = new Uint8Array(VALUE_SIZE);
          for (let i = 0; i < VALUE_SIZE; i++) value[i] = r() & 0xff;
          const k = key();
          const p = packet(op, flags, k, value);
          const fresh = contents(jit.map).length === maxEntries && !jit.map.has(k);
          const a = jit.prog.run({ data: p }).retval;
          const b = interp.prog.run({ data: p }).retval;
          assert.equal(a, b, `step ${step} op ${op} flags ${flags}`);
          if (op === OP_UPDATE && (a | 0) === -7) seen2big = true;
          // an LRU insert into a full map evicted the least recently used key: the same one on both sides
          if (lru && op === OP_UPDATE && a === 0 && fresh) evicted++;
        }
        if (step % 50 === 0) assert.deepEqual(contents(jit.map), contents(interp.map), `step ${step}`);
      }
      assert.deepEqual(contents(jit.map), contents(interp.map));
      if (lru) {
        assert.ok(!seen2big, 'an LRU map evicts instead of failing');
        assert.ok(evicted > 0, 'the LRU map was full and took new keys');
      } else assert.ok(seen2big, 'the table filled up at least once (E2BIG)');
    } finally {
      jit.rt.close();
      interp.rt.close();
    }
  });
}

test('the JIT does preallocated hash operations without calling the JS map ops; the other kinds still go to JS', async () => {
  const cases: Array<[string, MapSpec, boolean]> = [
    ['hash', spec('hash', 4, 8), false],
    ['hash NO_PREALLOC', spec('hash', 4, 8, BPF_F_NO_PREALLOC), true],
    ['hash RDONLY_PROG (updates refused in JS)', spec('hash', 4, 8, BPF_F_RDONLY_PROG), true],
    ['lru_hash', spec('lru_hash', 4, 8), false],
    ['lru_percpu_hash', spec('lru_percpu_hash', 4, 8), true],
  ];
  for (const [what, s, viaJs] of cases) {
    const jit = await side('jit', s).catch((e: unknown) => {
      throw new Error(`${what}: ${(e as Error).message}`);
    });
    try {
      const k = new Uint8Array([1, 0, 0, 0]);
      const v = new Uint8Array(VALUE_SIZE).fill(9);
      const calls = countJsOps(() => {
        jit.prog.run({ data: packet(OP_UPDATE, 0, k, v) });
        jit.prog.run({ data: packet(OP_LOOKUP, 0, k, v) });
        jit.prog.run({ data: packet(OP_DELETE, 0, k, v) });
      });
      if (viaJs) assert.ok(calls > 0, what);
      else assert.equal(calls, 0, what);
    } finally {
      jit.rt.close();
    }
  }
});

test('a program lookup returns an address inside the map\'s element region, and the host sees the program\'s writes', async () => {
  for (const engine of ENGINES) {
    const s = await side(engine, spec('hash', 16, 4));
    try {
      const keys = [0, 1, 2, 3].map((n) => new Uint8Array(16).fill(0xf0 + n));
      for (const [n, k] of keys.entries()) {
        const v = new Uint8Array(VALUE_SIZE);
        v[8] = 0x40 + n;
        assert.equal(s.prog.run({ data: packet(OP_UPDATE, 1, k, v) }).retval, 0);
      }
      // full: a fifth key is E2BIG, an existing one still updates (BPF_EXIST), NOEXIST on it is EEXIST
      assert.equal(s.prog.run({ data: packet(OP_UPDATE, 0, new Uint8Array(16), new Uint8Array(VALUE_SIZE)) }).retval | 0, -7);
      const v = new Uint8Array(VALUE_SIZE);
      v[8] = 0x77;
      assert.equal(s.prog.run({ data: packet(OP_UPDATE, 2, keys[3]!, v) }).retval, 0);
      assert.equal(s.prog.run({ data: packet(OP_UPDATE, 1, keys[3]!, v) }).retval | 0, -17);
      assert.equal(s.prog.run({ data: packet(OP_LOOKUP, 0, keys[3]!, v) }).retval, 0x77);
      assert.equal((s.map.get(keys[3]!) as Uint8Array)[8], 0x77);
      // EXIST on a missing key: ENOENT; delete of a missing key: ENOENT
      assert.equal(s.prog.run({ data: packet(OP_UPDATE, 2, new Uint8Array(16), v) }).retval | 0, -2);
      assert.equal(s.prog.run({ data: packet(OP_DELETE, 0, new Uint8Array(16), v) }).retval | 0, -2);
      const hm = s.map as unknown as HashMap;
      for (const k of keys) {
        const addr = hm.ops.lookupElem(s.rt.space.alloc(16), 0); // a zero key: absent
        assert.equal(addr, 0);
        const view = hm.getView(k)!;
        const region = s.rt.space.regionOf(view.byteOffset, VALUE_SIZE);
        assert.ok(region?.name.includes('elements'), `${engine}: ${region?.name}`);
      }
    } finally {
      s.rt.close();
    }
  }
});

test('deleting from a program while the host iterates: the walk sees each remaining key once, as with the JS table', async () => {
  const out: string[][] = [];
  for (const engine of ENGINES) {
    const s = await side(engine, spec('hash', 4, 64));
    try {
      for (let n = 0; n < 40; n++) s.map.set(new Uint8Array([n, 0, 0, 0]), new Uint8Array(VALUE_SIZE).fill(n));
      const walked: string[] = [];
      let n = 0;
      for (const k of s.map.keys()) {
        walked.push(hex(k));
        // delete the key after this one in numeric order, from the program
        const victim = new Uint8Array([(k[0]! + 1) % 40, 0, 0, 0]);
        s.prog.run({ data: packet(OP_DELETE, 0, victim, new Uint8Array(VALUE_SIZE)) });
        if (++n > 100) assert.fail('walk does not end');
      }
      assert.equal(new Set(walked).size, walked.length, `${engine}: no key twice`);
      out.push(walked);
    } finally {
      s.rt.close();
    }
  }
  assert.deepEqual(out[0], out[1]);
});

test('the probe modules validate for each operation, on shared and unshared memories', () => {
  for (const op of ['lookup', 'update', 'delete'] as const) {
    for (const shared of [false, true]) assert.ok(WebAssembly.validate(probeModuleBytes(op, shared) as BufferSource), `${op} shared=${shared}`);
  }
});
