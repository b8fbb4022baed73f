/**
 * Regenerate test/real-progs/kernel.btf: KERNEL_ROOTS (corpus.ts) and what
 * they contain, cut out of a kernel's BTF, with the per-CPU variables
 * KERNEL_PERCPU_VARS in a `.data..percpu` DATASEC of their own; and
 * kallsyms.txt, which of those variables /proc/kallsyms names (kallsyms_lookup_name
 * gives a typed ksym its address). Run after `npx tsc`, on the recording kernel:
 *   node dist/test/real-progs/gen-kernel-btf.js [/sys/kernel/btf/vmlinux]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Btf } from '../../src/object/btf/btf.js';
import { btfSubset } from '../../src/object/btf/subset.js';
import type { BtfType } from '../../src/object/btf/types.js';
import { DIR, KERNEL_PERCPU_VARS, KERNEL_ROOTS } from './corpus.js';

const src = process.argv[2] ?? '/sys/kernel/btf/vmlinux';
const full = Btf.parse(new Uint8Array(readFileSync(src)));
const sub = btfSubset(full, [...KERNEL_ROOTS, ...KERNEL_PERCPU_VARS]);
const types: BtfType[] = [...sub.types];
const percpu = full.typeByName('.data..percpu', 'datasec');
const vars = KERNEL_PERCPU_VARS.map((name) => {
  const v = sub.typeByName(name, 'var')!;
  const orig = percpu?.kind === 'datasec' ? percpu.vars.find((x) => full.typeById(x.typeId).name === name) : undefined;
  if (!orig) throw new Error(`${name} is not a per-CPU variable of ${src}`);
  return { typeId: v.id, offset: orig.offset, size: orig.size };
});
types.push({ id: types.length, kind: 'datasec', name: '.data..percpu', size: Math.max(...vars.map((v) => v.offset + v.size)), vars });
const blob = Btf.fromTypes(types).encode('le');
writeFileSync(join(DIR, 'kernel.btf'), blob);
console.log(`kernel.btf: ${blob.length} bytes of BTF from ${src}`);

let kallsyms = '';
try {
  kallsyms = readFileSync('/proc/kallsyms', 'utf8');
} catch {
  console.warn('kallsyms.txt: /proc/kallsyms is not readable here; the list is empty');
}
const names = new Set(kallsyms.split('\n').map((l) => l.split(/\s+/)[2]));
const have = KERNEL_PERCPU_VARS.filter((n) => names.has(n));
writeFileSync(join(DIR, 'kallsyms.txt'), `# KERNEL_PERCPU_VARS (corpus.ts) that the recording kernel's /proc/kallsyms names\n${have.map((n) => `${n}\n`).join('')}`);
console.log(`kallsyms.txt: ${have.length} of ${KERNEL_PERCPU_VARS.length} per-CPU variables have an address`);
