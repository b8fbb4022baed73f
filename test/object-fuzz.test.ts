/**
 * Fuzzing the object reader with mutations of the fixtures: bit flips,
 * truncation, and overwritten fields of the ELF header, section headers,
 * symbols, relocations and the BTF blobs. Every outcome must be a parsed
 * collection or a TsbpfError: never another exception, a crash or a hang.
 *
 * Seeded, so a failure reproduces: the message carries the seed and
 * iteration. Longer runs: TSBPF_FUZZ_ITERATIONS=200000 TSBPF_FUZZ_SEED=7
 * node --test dist/test/object-fuzz.test.js (npm run fuzz:object).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readObject } from '../src/object/reader.js';
import { parseElf, type ElfFile } from '../src/object/elf.js';
import { summarize } from '../src/cli/commands/object-show.js';
import { TsbpfError } from '../src/errors.js';
import { FIXTURE_OBJECTS, fixture } from './object-tools.js';
import { rng } from './support/random.js';

const ITERATIONS = Number(process.env.TSBPF_FUZZ_ITERATIONS ?? 3000);
const SEED = Number(process.env.TSBPF_FUZZ_SEED ?? 0x5eed);

interface Target {
  name: string;
  bytes: Uint8Array;
  elf: ElfFile;
  shoff: number;
}

const INTERESTING = [0, 1, 7, 8, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

function mutate(t: Target, rand: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  const b = t.bytes.slice();
  const dv = new DataView(b.buffer);
  const le = t.elf.endian === 'le';
  const value = (): number => (rand() < 0.5 ? INTERESTING[int(INTERESTING.length)]! : rand() < 0.5 ? int(b.length + 64) : int(0x100000000));
  const put = (off: number, size: 4 | 8): void => {
    if (off < 0 || off + size > b.length) return;
    if (size === 4) dv.setUint32(off, value() >>> 0, le);
    else dv.setBigUint64(off, rand() < 0.1 ? 0xffffffffffffffffn : BigInt(value()), le);
  };
  const rounds = 1 + int(3);
  for (let r = 0; r < rounds; r++) {
    switch (int(7)) {
      case 0: {
        // bit flips anywhere
        const n = 1 + int(8);
        for (let i = 0; i < n; i++) b[int(b.length)]! ^= 1 << int(8);
        break;
      }
      case 1:
        // truncation
        return b.subarray(0, int(b.length));
      case 2: {
        // ELF header field
        const fields: Array<[number, 4 | 8]> = [[16, 4], [24, 8], [32, 8], [40, 8], [48, 4], [52, 4], [56, 4], [60, 4]];
        const [off, size] = fields[int(fields.length)]!;
        put(off, size);
        break;
      }
      case 3: {
        // a section header field: name, type, flags, offset, size, link/info, align, entsize
        const h = t.shoff + int(t.elf.sections.length) * 64;
        const fields: Array<[number, 4 | 8]> = [[0, 4], [4, 4], [8, 8], [24, 8], [32, 8], [40, 4], [44, 4], [48, 8], [56, 8]];
        const [off, size] = fields[int(fields.length)]!;
        put(h + off, size);
        break;
      }
      case 4: {
        // a symbol: name, info/other/shndx, value, size
        const symtab = t.elf.sections.find((s) => s.name === '.symtab')!;
        const p = symtab.offset + int(t.elf.symbols.length) * 24;
        const k = int(4);
        if (k === 0) put(p, 4);
        else if (k === 1) put(p + 4, 4);
        else put(p + (k === 2 ? 8 : 16), 8);
        break;
      }
      case 5: {
        // a relocation entry: offset or info
        const rels = [...t.elf.relocations.values()].flat();
        if (!rels.length) break;
        const rs = rels[int(rels.length)]!;
        if (!rs.entries.length) break;
        const e = rs.entries[int(rs.entries.length)]!;
        put(e.fileOffset + (rand() < 0.5 ? 0 : 8), 8);
        if (rand() < 0.5) put(e.fileOffset + 8, 4); // just the type (low half on little-endian)
        break;
      }
      case 6: {
        // inside .BTF / .BTF.ext / .maps / code: the structures parsed beyond the ELF layer
        const secs = t.elf.sections.filter((s) => ['.BTF', '.BTF.ext', '.maps', 'maps', '.text', 'xdp', 'license'].includes(s.name) && s.size >= 4);
        if (!secs.length) break;
        const s = secs[int(secs.length)]!;
        put(s.offset + int(s.size - 3) , 4);
        break;
      }
    }
  }
  return b;
}

test(`fuzz: ${ITERATIONS} mutated fixtures give a spec or a TsbpfError (seed ${SEED})`, { timeout: 600_000 }, () => {
  const targets: Target[] = FIXTURE_OBJECTS.map((name) => {
    const bytes = fixture(name);
    const elf = parseElf(bytes);
    const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, elf.endian === 'le'));
    return { name, bytes, elf, shoff };
  });
  const rand = rng(SEED);
  const outcomes = new Map<string, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const t = targets[Math.floor(rand() * targets.length)]!;
    const bytes = mutate(t, rand);
    let kind: string;
    try {
      const spec = readObject(bytes, { name: 'fuzz' });
      // the result must be usable: summarised and serialised without surprises
      JSON.stringify(summarize(spec));
      for (const p of spec.programs.values()) for (const r of p.references) assert.ok(r.index >= 0 && r.index < p.insns.length);
      kind = 'ok';
    } catch (e) {
      if (!(e instanceof TsbpfError)) {
        assert.fail(`seed ${SEED} iteration ${i} (${t.name}): untyped ${(e as Error)?.constructor?.name}: ${(e as Error)?.stack ?? String(e)}`);
      }
      kind = e.name;
    }
    outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
  }
  // the mutations must reach past the ELF layer, not only break headers
  assert.ok((outcomes.get('ok') ?? 0) > ITERATIONS / 50, `too few mutants parsed: ${JSON.stringify([...outcomes])}`);
  assert.ok(outcomes.size >= 4, `too few kinds of outcome: ${JSON.stringify([...outcomes])}`);
  console.log(`# fuzz outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
});
