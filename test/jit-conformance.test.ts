/**
 * The 313 programs of the eBPF conformance suite, run through the JIT
 * (r1 = a writable copy of `-- mem` in the address space, r2 = its length,
 * helper 5 returns r1, as the suite's contract says).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSpace } from '../src/memory/address-space.js';
import { JitEngine, printWat } from '../src/vm/jit/index.js';
import { conformanceNames, helper5, readCase } from './jit-support.js';
import { CONFORMANCE_MISSING } from './paths.js';

// The whole file reads ../shared/bpf-conformance: one skip, with the reason, where it is missing.
describe('the bpf_conformance suite through the JIT', { skip: CONFORMANCE_MISSING }, () => {
  const names = conformanceNames();

  test('the conformance suite is present', () => {
    assert.equal(names.length, 313);
  });

  // Unverified images compile to the checked variant (budget, address checks); verified ones to the plain one.
  // Outlined: every function split into regions of a statement or two (outline.ts), so
  // that every branch out of a region, every exit and every loop goes through a region call.
  const variants = [[false, false, false], [true, true, false], [false, false, true], [true, true, true]] as const;
  for (const [shared, verified, outlined] of variants) {
    test(`all 313 conformance tests pass through the JIT (${shared ? 'shared' : 'unshared'} memory, ${verified ? 'plain' : 'checked'} code${outlined ? ', every function outlined' : ''})`, () => {
      const space = new AddressSpace({ initialPages: 16, maximumPages: shared ? 256 : undefined, shared });
      const engine = new JitEngine(outlined ? { outline: { above: 0, target: 2, min: 1 } } : {});
      const helpers = helper5();
      const failures: string[] = [];
      let regions = 0;
      for (const name of names) {
        const c = readCase(name);
        let addr = 0;
        if (c.mem.length) {
          addr = space.alloc(c.mem.length);
          space.write(addr, c.mem);
        }
        try {
          const exe = engine.prepare({ name, insns: c.insns, helpers, space, verified });
          try {
            const r = exe.run({ args: [BigInt(addr), BigInt(c.mem.length)] });
            for (const f of exe.compiled.functions) regions += f.regions.length;
            if (r !== c.result) failures.push(`${name}: got 0x${r.toString(16)}, want 0x${c.result.toString(16)}`);
            // The text printer decodes every instruction the compiler emitted.
            const wat = printWat(exe.compiled, c.insns);
            if (/unknown opcode|atomic\.0x|load\/store\.0x/.test(wat)) failures.push(`${name}: the printer could not decode the module`);
          } finally {
            exe.close();
          }
        } catch (e) {
          failures.push(`${name}: ${(e as Error).stack}`);
        }
        if (addr) space.free(addr);
      }
      assert.deepEqual(failures, []);
      if (outlined) assert.ok(regions > names.length, `regions: ${regions}`);
    });
  }
});
