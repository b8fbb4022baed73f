/**
 * Mutation fuzzing of real BTF and BTF.ext blobs: every mutant either parses
 * (and then dumps, sizes, decodes and relocates without trouble) or fails
 * with a TsbpfError. Anything else (a RangeError, a TypeError, a stack
 * overflow) is a bug; a hang would stop the test run. Seeded, so a failure
 * reproduces: the message names the seed and iteration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Btf, parseBtfExt, dumpRaw, dumpC, decodeValue, formatValue, encodeValue, calcCoreRelocation, type BtfExt } from '../src/object/btf/index.js';
import { parseElf } from '../src/object/elf.js';
import { TsbpfError } from '../src/errors.js';
import { ROOT } from './paths.js';
import { xorshift32 as rng } from './support/random.js';

const FIX = resolve(ROOT, 'test/fixtures-btf');
const SEED = Number(process.env.TSBPF_FUZZ_SEED ?? 0x5eed);
const ITERATIONS = Number(process.env.TSBPF_FUZZ_ITERATIONS ?? 3000);

const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 12, 16, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function mutate(src: Uint8Array, next: () => number): Uint8Array {
  let b = src.slice();
  const n = 1 + (next() % 4);
  for (let k = 0; k < n; k++) {
    const choice = next() % 6;
    const at = next() % Math.max(1, b.length);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    switch (choice) {
      case 0: // flip a bit
        b[at] = b[at]! ^ (1 << (next() % 8));
        break;
      case 1: // random byte
        b[at] = next() & 0xff;
        break;
      case 2: // an interesting 32-bit word at an aligned offset (type fields, counts, offsets)
        if (b.length >= 4) dv.setUint32((at & ~3) % (b.length - 3), INTERESTING[next() % INTERESTING.length]!, true);
        break;
      case 3: // truncate
        b = b.slice(0, at);
        break;
      case 4: // a small type id: creates references to other types, cycles included
        if (b.length >= 4) dv.setUint32((at & ~3) % (b.length - 3), next() % 80, true);
        break;
      case 5: { // duplicate a chunk over another place
        const len = 1 + (next() % 24);
        const from = next() % Math.max(1, b.length);
        b.copyWithin(at, from, Math.min(b.length, from + len));
        break;
      }
    }
  }
  return b;
}

function sections(file: string): { btf: Uint8Array; ext: Uint8Array } {
  const elf = parseElf(new Uint8Array(readFileSync(`${FIX}/${file}`)));
  return { btf: elf.sections.find((s) => s.name === '.BTF')!.data, ext: elf.sections.find((s) => s.name === '.BTF.ext')!.data };
}

/** Everything a loaded BTF is used for; errors must all be typed. */
function exercise(btf: Btf, ext?: BtfExt): void {
  dumpRaw(btf);
  dumpC(btf);
  for (const t of btf.types) {
    const attempt = (f: () => unknown): void => {
      try {
        f();
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
      }
    };
    attempt(() => btf.resolve(t.id));
    attempt(() => btf.alignof(t.id));
    attempt(() => {
      const size = btf.sizeof(t.id);
      if (size > 1 << 16) return;
      const bytes = new Uint8Array(size).fill(0xa5);
      const v = decodeValue(btf, t.id, bytes);
      formatValue(btf, t.id, bytes);
      encodeValue(btf, t.id, v);
    });
  }
  for (const sec of ext?.sections.values() ?? []) {
    for (const r of sec.coreRelos) {
      try {
        calcCoreRelocation(r, btf, btf);
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
      }
    }
  }
}

test(`mutated BTF and BTF.ext give typed errors or usable BTF (seed ${SEED}, ${ITERATIONS} iterations)`, () => {
  const corpus = ['kinds.o', 'core.o', 'lines.o', 'kinds.be.o'].map(sections);
  const next = rng(SEED);
  let parsed = 0;
  let rejected = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const src = corpus[i % corpus.length]!;
    const mutateExt = i % 3 === 2;
    const btfBytes = mutateExt ? src.btf : mutate(src.btf, next);
    const extBytes = mutateExt ? mutate(src.ext, next) : src.ext;
    try {
      const btf = Btf.parse(btfBytes, i % 2 ? 'be' : 'le');
      const ext = parseBtfExt(extBytes, btf.endian, btf);
      exercise(btf, ext);
      parsed++;
    } catch (e) {
      if (!(e instanceof TsbpfError)) {
        assert.fail(`seed ${SEED} iteration ${i}: untyped ${(e as Error)?.constructor?.name}: ${(e as Error)?.stack ?? String(e)}`);
      }
      rejected++;
    }
  }
  // both outcomes occur, so the fuzzer reaches past the header checks
  assert.ok(parsed > ITERATIONS / 20, `only ${parsed} mutants parsed`);
  assert.ok(rejected > ITERATIONS / 20, `only ${rejected} mutants rejected`);
});
