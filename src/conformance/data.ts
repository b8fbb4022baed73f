/**
 * The bpf_conformance suite's test file format (`.data`):
 *
 *   # comment
 *   -- asm          the program in the suite's `%r1` assembler dialect
 *   -- raw          the program as 64-bit instruction words in hex, one a line
 *   -- mem          input memory as hex bytes (may span lines)
 *   -- result       the expected r0 (hex with 0x, else decimal)
 *   -- error        the expected error text (negative tests)
 *   -- c, -- no register offset, ...   ignored
 *
 * `#` starts a comment line everywhere except in the ignored sections (which
 * hold C source with `#include`).
 */
import { TsbpfError } from '../errors.js';
import type { Insn } from '../isa/insn.js';

export interface ConformanceTest {
  name: string;
  /** the `-- asm` section, if any */
  asm?: string;
  /** the `-- raw` section, decoded, if any */
  raw?: Insn[];
  /** the `-- mem` bytes (empty when the test has none) */
  mem: Uint8Array;
  /** true when the file has a `-- mem` section (an empty one still gives r1 a pointer) */
  hasMem: boolean;
  /** expected r0, as an unsigned 64-bit value */
  result?: bigint;
  /** expected error text */
  error?: string;
}

class ConformanceFileError extends TsbpfError {
  constructor(name: string, reason: string) {
    super('EINVAL', `${name}: ${reason}`);
  }
}

/** Parse hex bytes written with any whitespace ("00 01\n02"), optionally 0x-prefixed. */
export function parseHexBytes(text: string): Uint8Array {
  const words = text.split(/[\s,]+/).filter((w) => w !== '');
  const out: number[] = [];
  for (const w of words) {
    const h = w.replace(/^0x/i, '');
    if (!/^[0-9a-f]+$/i.test(h) || h.length % 2 !== 0) throw new TsbpfError('EINVAL', `invalid hex byte '${w}'`);
    for (let i = 0; i < h.length; i += 2) out.push(parseInt(h.slice(i, i + 2), 16));
  }
  return Uint8Array.from(out);
}

/** A `-- raw` word: imm << 32 | off << 16 | src << 12 | dst << 8 | code. */
function rawWord(w: bigint): Insn {
  return {
    code: Number(w & 0xffn),
    dst: Number((w >> 8n) & 0xfn),
    src: Number((w >> 12n) & 0xfn),
    off: Number(BigInt.asIntN(16, w >> 16n)),
    imm: Number(BigInt.asIntN(32, w >> 32n)),
  };
}

function parseValue(name: string, s: string): bigint {
  const t = s.trim();
  try {
    const v = /^-?0x/i.test(t) ? (t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t)) : BigInt(t);
    return BigInt.asUintN(64, v);
  } catch {
    throw new ConformanceFileError(name, `invalid result '${t}'`);
  }
}

export function parseTestFile(text: string, name = '<test>'): ConformanceTest {
  const sections = new Map<string, string[]>();
  let cur: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const m = /^--\s*(.*?)\s*$/.exec(line);
    if (m) {
      cur = m[1]!.toLowerCase();
      if (!sections.has(cur)) sections.set(cur, []);
      continue;
    }
    if (cur === undefined) continue; // header comments
    if (cur === 'asm' || cur === 'raw' || cur === 'mem' || cur === 'result' || cur === 'error') {
      if (/^\s*#/.test(line)) continue;
      sections.get(cur)!.push(line);
    }
  }
  const test: ConformanceTest = { name, mem: new Uint8Array(0), hasMem: sections.has('mem') };
  const body = (k: string): string | undefined => sections.get(k)?.join('\n');
  const asm = body('asm');
  if (asm !== undefined) test.asm = asm;
  const raw = body('raw');
  if (raw !== undefined) {
    test.raw = raw
      .split(/\s+/)
      .filter((w) => w !== '')
      .map((w) => {
        if (!/^(0x)?[0-9a-f]{1,16}$/i.test(w)) throw new ConformanceFileError(name, `invalid raw instruction '${w}'`);
        return rawWord(BigInt(w.startsWith('0x') || w.startsWith('0X') ? w : `0x${w}`));
      });
  }
  const mem = body('mem');
  if (mem !== undefined) {
    try {
      test.mem = parseHexBytes(mem);
    } catch (e) {
      throw new ConformanceFileError(name, (e as Error).message);
    }
  }
  const result = body('result')?.trim();
  if (result) test.result = parseValue(name, result);
  const error = body('error')?.trim();
  if (error) test.error = error;
  if (test.asm === undefined && test.raw === undefined) throw new ConformanceFileError(name, 'no -- asm or -- raw section');
  if (test.result === undefined && test.error === undefined) throw new ConformanceFileError(name, 'no -- result or -- error section');
  return test;
}
