/**
 * Find the BTF in a file's bytes: an ELF object's `.BTF` section, or a raw
 * BTF blob (what /sys/kernel/btf/* holds), as bpftool's `btf dump file` does.
 */
import { Btf } from './btf.js';
import { BtfError } from './error.js';
import { parseBtfExt, type BtfExt } from './ext.js';
import { parseElf } from '../elf.js';

const isElf = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;

/** The BTF of an object file or raw blob. */
export function loadBtfFile(bytes: Uint8Array, base?: Btf): Btf {
  return loadBtfAndExt(bytes, base).btf;
}

/** The BTF and (for objects that have one) the parsed .BTF.ext. */
export function loadBtfAndExt(bytes: Uint8Array, base?: Btf): { btf: Btf; ext?: BtfExt } {
  if (isElf(bytes)) {
    const elf = parseElf(bytes);
    const sec = elf.sections.find((s) => s.name === '.BTF');
    if (!sec) throw new BtfError(-1, 'object has no .BTF section (build with clang -g)', 'ENOENT');
    const btf = Btf.parse(sec.data, elf.endian, { base });
    const extSec = elf.sections.find((s) => s.name === '.BTF.ext');
    return { btf, ext: extSec ? parseBtfExt(extSec.data, elf.endian, btf) : undefined };
  }
  return { btf: Btf.parse(bytes, 'le', { base }) };
}
