/** A BTF file named on the command line (`btf dump FILE`, `-B BASE`, `--kernel-btf F`): bounded, ELF or raw BTF. */
import { TsbpfError } from '../errors.js';
import { MAGIC, readBounded } from '../bounded-read.js';
import { loadBtfFile } from '../object/btf/file.js';
import type { Btf } from '../object/btf/btf.js';

export function readBtfPath(path: string, base?: Btf): Btf {
  const bytes = readBounded(path, {
    kind: 'btf',
    magic: { prefixes: [MAGIC.elf, MAGIC.btfLe, MAGIC.btfBe], error: () => new TsbpfError('EINVAL', `${path}: neither an ELF object nor a BTF blob`) },
  });
  return loadBtfFile(bytes, base);
}
