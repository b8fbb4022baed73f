/**
 * The playground's assembly editor text (playground/src/lib/listing.ts):
 * every example's programs turn into text and back into the same
 * instructions, references, line_info and func_info; an edit keeps the C
 * lines, so a rejection of the edited program still names its C line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { readObject, Runtime, VerifierError, AsmError } from '../src/core.js';
import { EXAMPLES } from '../playground/src/lib/examples.js';
import { fromListing, lineInfoAt, toListing, withProgram } from '../playground/src/lib/listing.js';

const objectOf = (id: string) => readObject(new Uint8Array(readFileSync(join(ROOT, 'playground/examples', `${id}.o`))));

test('every example program round-trips through the editor text', () => {
  for (const ex of EXAMPLES) {
    const coll = objectOf(ex.id);
    for (const ps of coll.programs.values()) {
      const text = toListing(coll, ps);
      const { spec, slotOfLine } = fromListing(text, coll, ps);
      assert.deepEqual(spec.insns, ps.insns, `${ex.id}/${ps.name} instructions`);
      assert.deepEqual(spec.references, ps.references, `${ex.id}/${ps.name} references`);
      // line_info: the same C line for every instruction (the text keeps one record per line change).
      for (let i = 0; i < ps.insns.length; i++) {
        const a = lineInfoAt(spec.lineInfo, i);
        const b = lineInfoAt(ps.lineInfo, i);
        assert.deepEqual([a?.fileName, a?.lineNum], [b?.fileName, b?.lineNum], `${ex.id}/${ps.name} line of insn ${i}`);
      }
      assert.deepEqual(spec.funcInfo, ps.funcInfo, `${ex.id}/${ps.name} func_info`);
      // Every instruction slot (but lddw's second) has exactly one editor line.
      assert.ok(slotOfLine.size > 0 && slotOfLine.size <= ps.insns.length);
    }
  }
});

test('an edited program is rejected with the C line of the failing instruction', async () => {
  const coll = objectOf('xdp_firewall');
  const ps = coll.programs.get('xdp_firewall')!;
  // Drop the IPv4 header check: `if r1 > r2 goto ...` after `r1 += 34`.
  const lines = toListing(coll, ps).split('\n');
  const at = lines.findIndex((l, i) => /if r1 > r2 goto/.test(l) && /r1 \+= 34/.test(lines[i - 2] ?? ''));
  assert.ok(at > 0, 'found the IPv4 bounds check');
  lines.splice(at, 1);
  const { spec } = fromListing(lines.join('\n'), coll, ps);
  const rt = new Runtime();
  try {
    await assert.rejects(rt.load(withProgram(coll, spec), { programs: ['xdp_firewall'] }), (e: unknown) => {
      assert.ok(e instanceof VerifierError);
      assert.match(e.kernelMessage, /invalid access to packet/);
      assert.equal(e.sourceLine?.line, 43);
      assert.match(e.sourceLine?.text ?? '', /proto = ip->protocol/);
      return true;
    });
  } finally {
    rt.close();
  }
});

test('text that does not assemble gives the assembler error with its line', () => {
  const coll = objectOf('packet_counter');
  const ps = coll.programs.get('count_packets')!;
  assert.throws(() => fromListing('    r0 = 2\n    r11 = 1\n    exit\n', coll, ps), (e: unknown) => e instanceof AsmError && e.line === 2);
});
