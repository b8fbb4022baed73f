/**
 * The kernel BTF a test kit models when the test names none: a small kernel
 * tsbpf ships (src/testing/btf/kernel-model.c, built by
 * scripts/build-kernel-model.sh): task_struct, cred, mm_struct, file,
 * dentry, linux_binprm, request, sock and friends with the fields
 * libbpf-tools style programs read, Linux's tracepoint records and pt_regs,
 * and the tp_btf targets' prototypes. No /sys and no Node API: it serves
 * browsers too. A test that wants the real layouts passes the running
 * kernel's BTF (/sys/kernel/btf/vmlinux) or a BTFHub file instead.
 */
import { Btf } from '../object/btf/btf.js';
import { base64Bytes } from '../object/btf/context.js';
import { KERNEL_MODEL_BTF_BASE64 } from './kernel-btf-data.js';
import { kernelVersionCode } from '../uapi/kernel-version.js';

/**
 * The version the shipped small kernel stands for: its layouts follow Linux
 * 6.12's (task_struct.__state, sched_switch's prev_state argument, ...), so
 * a program's `LINUX_KERNEL_VERSION` branches take 6.12's side on it.
 */
export const SHIPPED_KERNEL_VERSION = kernelVersionCode('6.12.0');

let cached: Btf | undefined;

/** The shipped small kernel's BTF (parsed once). */
export function shippedKernelBtf(): Btf {
  if (!cached) {
    cached = Btf.parse(base64Bytes(KERNEL_MODEL_BTF_BASE64), 'le');
  }
  return cached;
}
