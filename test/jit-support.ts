/** Shared by the JIT tests: the conformance suite's files and helper 5, engines side by side. */
import { readFileSync, readdirSync } from 'node:fs';
import { fromHex, type Insn } from '../src/isa/insn.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import { CONFORMANCE_DIR } from './paths.js';

export interface ConformanceCase {
  name: string;
  insns: Insn[];
  mem: Uint8Array;
  result: bigint;
}

export function conformanceNames(): string[] {
  return readdirSync(`${CONFORMANCE_DIR}/tests`)
    .filter((f) => f.endsWith('.data'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** One test: the program from bytecode/NAME.hex, `-- mem` and `-- result` from tests/NAME.data. */
export function readCase(name: string): ConformanceCase {
  const text = readFileSync(`${CONFORMANCE_DIR}/tests/${name}.data`, 'utf8');
  let section = '';
  let memHex = '';
  let result: bigint | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    const m = /^--\s*(.*)$/.exec(line);
    if (m) {
      section = m[1]!.trim();
      continue;
    }
    if (section === 'mem') memHex += ` ${line}`;
    else if (section === 'result' && line) result = BigInt.asUintN(64, BigInt(line));
  }
  const mem = memHex.trim() ? Uint8Array.from(memHex.trim().split(/\s+/).map((h) => parseInt(h, 16))) : new Uint8Array();
  if (result === undefined) throw new Error(`${name}: no -- result`);
  const insns = fromHex(readFileSync(`${CONFORMANCE_DIR}/bytecode/${name}.hex`, 'utf8'));
  return { name, insns, mem, result };
}

/** The suite's helper 5: returns r1. */
export const helper5 = (): HelperRegistry =>
  new HelperRegistry([{ id: 5, name: 'conformance_identity', proto: { ret: 'INTEGER', args: ['ANYTHING'] }, fn: (_env, r1) => r1 }]);
