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

/** `--kernel-btf F`, shared by every command that relocates CO-RE or judges tracing programs. */
export const KERNEL_BTF_OPTION = { 'kernel-btf': { type: 'string' } } as const;

export const KERNEL_BTF_USAGE = `  --kernel-btf F  the kernel's BTF (bpftool's kernel_btf; e.g. /sys/kernel/btf/vmlinux): CO-RE
                  relocations resolve against it, as libbpf's do, and it types tracing
                  targets and kernel-object pointers; without it, tsbpf's own types
`;

/** The BTF `--kernel-btf` names, read and parsed once (undefined without the option). */
export function kernelBtfOption(values: Record<string, unknown>): Btf | undefined {
  const path = values['kernel-btf'];
  return typeof path === 'string' ? readBtfPath(path) : undefined;
}
