/**
 * BPF_LD | BPF_IMM | BPF_DW, the two-slot load of a 64-bit constant, a map
 * pointer, a pointer into a map's value (global data) or a function
 * pointer (check_ld_imm), by the pseudo source register it carries.
 */
import { calleeStart } from '../isa/control-flow.js';
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import { Reg } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { kernelBtf } from './kernel-btf.js';

function mapIndex(env: Verifier, i: number): number {
  const m = env.input.mapOfInsn ? env.input.mapOfInsn(i) : env.insns[i]!.imm;
  if (m === undefined || m < 0 || m >= env.maps.length)
    throw new Reject({
      errno: 'EINVAL',
      message: `fd ${env.insns[i]!.imm} is not pointing to valid bpf_map`,
      insn: i,
      hint: 'the instruction refers to a map the loader did not provide',
    });
  return m;
}

/**
 * __check_pseudo_btf_id for a kernel function: an lddw of a kfunc's BTF id
 * (libbpf writes one where a program takes a kfunc's address, as
 * bpf_ksym_exists() does) is the function's address, typed as read-only
 * memory of size 0. True when the id names a function of the kernel BTF;
 * false for a variable (a typed ksym, which tsbpf does not model); an id
 * that names neither is the kernel's refusal.
 */
export function ksymBtfFunc(env: Verifier, i: number): boolean {
  const id = env.insns[i]!.imm >>> 0;
  // a module's BTF (its fd in the second slot) is not one the verifier has
  if (env.insns[i + 1]!.imm !== 0) return false;
  const btf = env.input.kernelBtf ?? kernelBtf();
  const t = id > 0 && id < btf.types.length ? btf.types[id] : undefined;
  if (!t) throw new Reject({ errno: 'ENOENT', message: `ldimm64 insn specifies invalid btf_id ${id}.`, insn: i });
  if (t.kind === 'func') return true;
  if (t.kind === 'var') return false;
  throw new Reject({ errno: 'EINVAL', message: `pseudo btf_id ${id} in ldimm64 isn't KIND_VAR or KIND_FUNC`, insn: i });
}

export function checkLdImm64(env: Verifier, i: number, ins: Insn): void {
  switch (ins.src) {
    case 0: {
      const lo = BigInt(ins.imm >>> 0), hi = BigInt(env.insns[i + 1]!.imm >>> 0);
      env.writeReg(ins.dst, Reg.known((hi << 32n) | lo));
      return;
    }
    case op.BPF_PSEUDO_MAP_FD:
    case op.BPF_PSEUDO_MAP_IDX: {
      const m = mapIndex(env, i);
      env.writeReg(ins.dst, Reg.ptr('map_ptr', { map: m }));
      return;
    }
    case op.BPF_PSEUDO_MAP_VALUE:
    case op.BPF_PSEUDO_MAP_IDX_VALUE: {
      const m = mapIndex(env, i);
      const off = env.insns[i + 1]!.imm;
      const info = env.maps[m]!;
      if (info.type !== 'array') throw new Reject({
        errno: 'EINVAL',
        message: 'no direct value access support for this map type',
        insn: i,
        hint: 'global data lives in single-entry array maps',
      });
      if (info.maxEntries !== 1) throw new Reject({
        errno: 'ENOTSUPP',
        message: `invalid access to map value pointer, value_size=${info.valueSize} off=${off}`,
        insn: i,
      });
      if (off < 0 || off >= info.valueSize) throw new Reject({
        errno: 'EINVAL',
        message: `invalid access to map value pointer, value_size=${info.valueSize} off=${off}`,
        insn: i,
      });
      env.writeReg(ins.dst, Reg.ptr('map_value', { map: m, off }));
      return;
    }
    case op.BPF_PSEUDO_BTF_ID:
      // check_ld_imm: the type __check_pseudo_btf_id gave a function (check.ts refused the rest)
      env.writeReg(ins.dst, Reg.ptr('mem', { memSize: 0, rdonly: true }));
      return;
    case op.BPF_PSEUDO_FUNC: {
      if (!env.input.funcInfo?.length) throw new Reject({
        errno: 'EINVAL',
        message: 'missing btf func_info',
        insn: i,
        hint: 'callbacks need BTF: build with `clang -g`',
        rule: 'a function pointer needs the BTF func_info of the program',
      });
      env.writeReg(ins.dst, Reg.ptr('func', { subprog: calleeStart(ins, i) }));
      return;
    }
  }
  throw new Reject({ errno: 'EINVAL', message: `invalid bpf_ld_imm64 insn`, insn: i });
}
