/**
 * Kernel modules' BTF, as libbpf's load_module_btfs finds it: each module
 * built with BTF has /sys/kernel/btf/<module>, split BTF on vmlinux (its
 * type ids continue after vmlinux's). CO-RE relocations search these when
 * vmlinux has no candidate (bpf_core_find_cands), and a tracing program
 * whose target function is in a module names that module's kernel BTF
 * object in BPF_PROG_LOAD's attach_btf_obj_fd beside the id.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBtfFile } from '../object/btf/file.js';
import type { Btf, BtfKind, CoreModule } from '../object/btf/index.js';
import { TsbpfError } from '../errors.js';
import type { Sys } from './ffi.js';
import { btfInfo, fdById, ids } from './info.js';

/** The modules' BTF under `dir` (default /sys/kernel/btf), each parsed on `vmlinux`; none when the directory is missing. */
export function readModuleBtfs(vmlinux: Btf, dir = '/sys/kernel/btf'): CoreModule[] {
  if (!existsSync(dir)) return [];
  const out: CoreModule[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'vmlinux') continue;
    try {
      out.push({ name, btf: loadBtfFile(new Uint8Array(readFileSync(join(dir, name))), vmlinux) });
    } catch {
      // a module unloaded while we read, or BTF we cannot parse: libbpf skips it too (with a warning)
    }
  }
  return out;
}

/** Where a BTF-named target is: vmlinux, or the first module that has it among its own types. */
export function findKernelType(vmlinux: Btf, modules: () => readonly CoreModule[], name: string, kind: BtfKind): { id: number; module?: string } | undefined {
  const t = vmlinux.typeByName(name, kind);
  if (t) return { id: t.id };
  for (const m of modules()) {
    const own = m.btf.idsByName(name).find((id) => id >= (m.btf.base?.types.length ?? 0) && m.btf.typeById(id).kind === kind);
    if (own !== undefined) return { id: own, module: m.name };
  }
  return undefined;
}

/** An fd of the kernel's BTF object of module `name` (BTF_GET_NEXT_ID, then its info's name), for attach_btf_obj_fd. */
export function moduleBtfObjFd(sys: Sys, name: string): number {
  for (const id of ids(sys, 'btf')) {
    let fd: number;
    try {
      fd = fdById(sys, 'btf', id);
    } catch {
      continue; // freed meanwhile
    }
    const info = btfInfo(sys, fd);
    if (info.kernel && info.name === name) return fd;
    sys.close(fd);
  }
  throw new TsbpfError('ENOENT', `no kernel BTF object for module ${name} (was it unloaded?)`);
}
