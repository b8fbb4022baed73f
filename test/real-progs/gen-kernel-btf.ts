/**
 * Regenerate test/real-progs/kernel.btf: KERNEL_ROOTS (corpus.ts) and what
 * they contain, cut out of a kernel's BTF. Run after `npx tsc`:
 *   node dist/test/real-progs/gen-kernel-btf.js [/sys/kernel/btf/vmlinux]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Btf } from '../../src/object/btf/btf.js';
import { btfSubset } from '../../src/object/btf/subset.js';
import { DIR, KERNEL_ROOTS } from './corpus.js';

const src = process.argv[2] ?? '/sys/kernel/btf/vmlinux';
const blob = btfSubset(Btf.parse(new Uint8Array(readFileSync(src))), KERNEL_ROOTS).encode('le');
writeFileSync(join(DIR, 'kernel.btf'), blob);
console.log(`kernel.btf: ${blob.length} bytes of BTF from ${src}`);
