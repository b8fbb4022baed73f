/**
 * The running kernel's symbol names (/proc/kallsyms), for the verifier's
 * typed ksyms (verifier/ksym.ts): Linux gives a ksym's lddw its address with
 * kallsyms_lookup_name, and a kernel built without CONFIG_KALLSYMS_ALL has no
 * data symbols there, so it refuses every typed ksym variable ("ldimm64
 * failed to find the address for kernel symbol"). When `--kernel-btf` names
 * the running kernel's own BTF, its kallsyms are the ones that decide; they
 * are read once, and only if a program loads a ksym.
 */
import { readFileSync, realpathSync } from 'node:fs';

const RUNNING_KERNEL_BTF = '/sys/kernel/btf/vmlinux';

/** A lookup of the running kernel's kallsyms names, if `btfPath` is its BTF and /proc/kallsyms can be read; else undefined. */
export function runningKernelSymbols(btfPath: unknown): ((name: string) => boolean) | undefined {
  if (typeof btfPath !== 'string') return undefined;
  try {
    if (realpathSync(btfPath) !== RUNNING_KERNEL_BTF) return undefined;
  } catch {
    return undefined;
  }
  let names: Set<string> | undefined;
  return (name) => {
    if (!names) {
      names = new Set();
      try {
        // "ADDR TYPE NAME [MODULE]"
        for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
          const a = line.indexOf(' '), b = line.indexOf(' ', a + 1);
          if (b < 0) continue;
          const c = line.indexOf('\t', b + 1);
          names.add(line.slice(b + 1, c < 0 ? undefined : c));
        }
      } catch {
        return true; // unreadable: assume the kernel has it (as one with CONFIG_KALLSYMS_ALL)
      }
    }
    return names.has(name);
  };
}
