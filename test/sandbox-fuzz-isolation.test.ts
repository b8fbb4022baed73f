/**
 * Issue 11: a verified program changes only its own maps, its context, its
 * packet and its stack. Every program of the verifier fuzzer
 * (test/fuzz/verifier-gen.ts) that the runtime's verifier accepts is loaded
 * into a runtime that also holds bystander maps of every kind with random
 * contents, and run on random packets under both engines, the JIT trusting
 * the verifier as a real load does. The whole address space is compared
 * before and after each run: every changed byte must lie outside the
 * bystanders' regions (values, elements, descriptors) and outside every
 * read-only region; and the bystanders' contents, read through the host
 * API, must be unchanged. The programs' own hash maps are preallocated or
 * not (BPF_F_NO_PREALLOC), so both element allocators are exercised.
 *
 * A fixed seed by default (reproducible CI); TSBPF_ISOLATION_SEED and
 * TSBPF_ISOLATION_COUNT explore further.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm.js';
import { Runtime } from '../src/runtime/runtime.js';
import { ManualClock } from '../src/runtime/host.js';
import { TestRunError } from '../src/runtime/testrun/types.js';
import { TsbpfError } from '../src/errors.js';
import type { BpfMap } from '../src/maps/map.js';
import type { MapSpec } from '../src/object/spec.js';
import type { Region } from '../src/memory/address-space.js';
import { BPF_F_NO_PREALLOC } from '../src/maps/flags.js';
import { generate, Rng, type GenProgram } from './fuzz/verifier-gen.js';
import { expandMaps, withMapIds } from './fuzz/verifier-harness.js';

const SEED = Number(process.env.TSBPF_ISOLATION_SEED ?? 20261206);
const COUNT = Number(process.env.TSBPF_ISOLATION_COUNT ?? 60);
const ENGINES = ['jit', 'interpreter'] as const;

const BYSTANDERS: MapSpec[] = [
  { name: 'bys_array', type: 'array', keySize: 4, valueSize: 24, maxEntries: 8, flags: 0, pinning: 'none' },
  { name: 'bys_percpu', type: 'percpu_array', keySize: 4, valueSize: 16, maxEntries: 4, flags: 0, pinning: 'none' },
  { name: 'bys_hash', type: 'hash', keySize: 4, valueSize: 24, maxEntries: 8, flags: 0, pinning: 'none' },
  { name: 'bys_hash_np', type: 'hash', keySize: 4, valueSize: 24, maxEntries: 8, flags: BPF_F_NO_PREALLOC, pinning: 'none' },
  { name: 'bys_lru', type: 'lru_hash', keySize: 4, valueSize: 16, maxEntries: 8, flags: 0, pinning: 'none' },
  { name: 'bys_lpm', type: 'lpm_trie', keySize: 8, valueSize: 16, maxEntries: 8, flags: BPF_F_NO_PREALLOC, pinning: 'none' },
  { name: 'bys_ringbuf', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, pinning: 'none' },
  { name: 'bys_queue', type: 'queue', keySize: 0, valueSize: 16, maxEntries: 4, flags: 0, pinning: 'none' },
];

function fill(m: BpfMap<unknown>, rng: Rng): void {
  const bytes = (n: number): Uint8Array => new Uint8Array(n).map(() => rng.int(0, 255));
  switch (m.type) {
    case 'ringbuf':
      return;
    case 'queue':
      for (let i = 0; i < 3; i++) (m as unknown as { push(v: Uint8Array): void }).push(bytes(m.valueSize));
      return;
    case 'lpm_trie':
      for (let i = 0; i < 4; i++) m.set(new Uint8Array([8 * (i + 1), 0, 0, 0, 10, i, 0, 0]), bytes(m.valueSize) as never);
      return;
    default:
      for (let i = 0; i < Math.min(6, m.maxEntries); i++) m.set(i, bytes(m.valueSize) as never);
  }
}

/** What the host sees of a map (entries where the type has them). */
function contents(m: BpfMap<unknown>): string {
  if (m.type === 'ringbuf' || m.type === 'queue') return '';
  const hex = (v: unknown): string => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : Array.isArray(v) ? v.map(hex).join('/') : String(v));
  return [...m.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort().join(',');
}

interface Runner {
  rt: Runtime;
  bystanders: BpfMap<unknown>[];
}

async function runner(engine: 'jit' | 'interpreter', rng: Rng): Promise<Runner> {
  // A small space (2 MiB) keeps the before/after comparison cheap.
  const rt = new Runtime({ engine, seed: 1, clock: new ManualClock(), numCpus: 2, space: { initialPages: 32 } });
  const bystanders = BYSTANDERS.map((s) => rt.createMap(s));
  for (const m of bystanders) fill(m, rng);
  // Another program: its stack (and, for the interpreter, its frames) is not the fuzz program's either.
  await rt.loadProgram({ name: 'bys_prog', type: 'xdp', insns: assemble('*(u64 *)(r10 -8) = 1\nr0 = 2\nexit', { dialect: 'kernel' }) });
  return { rt, bystanders };
}

/** Regions no program of the test may write: the bystanders' and every read-only one. */
function forbidden(r: Region | undefined): boolean {
  return r !== undefined && (r.name.includes('bys_') || !r.writable);
}

/** The bytes changed since `before` that lie in a forbidden region (at most 8, described). */
function forbiddenChanges(space: Runtime['space'], before: Uint8Array): string[] {
  const after = space.u8;
  const bad: string[] = [];
  for (let a = 0; a < before.length && bad.length < 8; a++) {
    if (before[a] === after[a]) continue;
    const r = space.regionOf(a);
    if (forbidden(r)) bad.push(`0x${a.toString(16)} in ${r!.name} (${r!.kind}): ${before[a]} -> ${after[a]}`);
  }
  return bad;
}

test(`a verified program changes only its own maps, context, packet and stack (seed ${SEED}, ${COUNT} programs, both engines)`, { timeout: 600_000 }, async () => {
  const rng = new Rng(SEED);
  const runners = await Promise.all(ENGINES.map((e) => runner(e, rng)));
  let loaded = 0;
  let runs = 0;
  try {
    for (let i = 0; i < COUNT; i++) {
      const seed = (SEED + i) >>> 0;
      const program: GenProgram = generate(seed);
      for (const { rt, bystanders } of runners) {
        const own = program.maps.map((m, j) =>
          rt.createMap({ name: `own${j}`, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.type === 'hash' && seed % 2 ? BPF_F_NO_PREALLOC : 0, pinning: 'none' }),
        );
        try {
          const prng = new Rng(seed ^ 0x5eed);
          for (const m of own) for (let k = 0; k < 3; k++) {
            try {
              m.set(k, new Uint8Array(m.valueSize).map(() => prng.int(0, 255)) as never);
            } catch {
              /* an array index out of range */
            }
          }
          let prog;
          try {
            prog = await rt.loadProgram({ name: 'fuzz', type: program.type, insns: withMapIds(assemble(expandMaps(program.source), { dialect: 'kernel' }), own) });
          } catch (e) {
            if (e instanceof TsbpfError) continue; // refused by the verifier: nothing to run
            throw e;
          }
          if (rt === runners[0]!.rt) loaded++;
          try {
            const before = rt.space.u8.slice();
            const seen = bystanders.map(contents);
            for (let k = 0; k < 3; k++) {
              const len = program.type === 'xdp' ? prng.pick([14, 20, 34, 42, 60, 64, 100]) : prng.int(14, 100);
              const pkt = new Uint8Array(len).map(() => prng.int(0, 255));
              if (program.type !== 'xdp') pkt.set([0x88, 0xb5], 12);
              try {
                prog.run({ data: pkt });
                runs++;
              } catch (e) {
                if (!(e instanceof TestRunError)) throw e;
              }
            }
            assert.deepEqual(forbiddenChanges(rt.space, before), [], `seed ${seed} (${rt.engine.kind}): the program wrote outside its own memory\n${program.source}`);
            assert.deepEqual(bystanders.map(contents), seen, `seed ${seed} (${rt.engine.kind}): a bystander map changed\n${program.source}`);
          } finally {
            prog.close();
          }
        } finally {
          for (const m of own) m.close();
        }
      }
    }
  } finally {
    for (const { rt } of runners) rt.close();
  }
  console.log(`isolation: ${loaded} of ${COUNT} fuzzer programs loaded, ${runs} runs over both engines, bystanders untouched (seed ${SEED})`);
  assert.ok(loaded >= COUNT / 4, `only ${loaded} of ${COUNT} programs were accepted: the check proves little`);
});

test('the isolation check catches a changed byte of another map, its descriptor or its elements (the oracle works)', async () => {
  const rng = new Rng(1);
  const { rt, bystanders } = await runner('interpreter', rng);
  try {
    for (const m of bystanders) {
      const before = rt.space.u8.slice();
      const seen = contents(m);
      // The descriptor (read-only for programs) of every kind, and a value where the type has views.
      rt.space.writeU8(m.addr + 4, rt.space.readU8(m.addr + 4) ^ 1);
      assert.equal(forbiddenChanges(rt.space, before).length, 1, `${m.name}: a descriptor byte`);
      rt.space.writeU8(m.addr + 4, rt.space.readU8(m.addr + 4) ^ 1);
      if (m.type === 'ringbuf' || m.type === 'queue') continue;
      const k = m.type === 'lpm_trie' ? new Uint8Array([8, 0, 0, 0, 10, 0, 0, 0]) : 0;
      const at = m.getView(k)!.byteOffset;
      const snap = rt.space.u8.slice();
      rt.space.writeU8(at, rt.space.readU8(at) ^ 0xff);
      assert.equal(forbiddenChanges(rt.space, snap).length, 1, `${m.name}: a value byte`);
      assert.notEqual(contents(m), seen, `${m.name}: the host view shows it`);
    }
  } finally {
    rt.close();
  }
});
