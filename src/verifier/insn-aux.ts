/**
 * What the verifier proved about each instruction, handed on to the
 * execution engines (the kernel's `struct bpf_insn_aux_data` in
 * include/linux/bpf_verifier.h, the part of it a JIT may exploit). The
 * verifier owns the type because it produces it; the vm reads it, as a type
 * only, through ProgramImage.aux.
 */

/** Per-instruction facts the verifier proved, which an engine may exploit (or ignore). */
export interface InsnAux {
  /** for a `call map_lookup_elem` etc.: the one map the call can see, when the verifier proved it */
  mapAddr?: number;
  /** the access at this instruction is proven in bounds: no runtime check needed */
  safeAccess?: boolean;
  /** the divisor of this div/mod is proven non-zero */
  nonZeroDivisor?: boolean;
  /**
   * a load through a kernel-object pointer (PTR_TO_BTF_ID): Linux's BPF_PROBE_MEM, which reads 0
   * where the memory is not there; the verifier proved the field, not the address
   */
  probeMem?: boolean;
  /**
   * a read the verifier types as Linux does but tsbpf's runtime cannot serve (a field of a map's
   * kernel struct its map descriptor lacks, such as `map.ops of struct bpf_array`): the loader
   * refuses the program (ENOTSUPP naming it)
   */
  unprovided?: string;
}
