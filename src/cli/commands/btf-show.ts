/** `tsbpf btf show`: the kernel's btfs, as bpftool lists them (kernel-show.ts). */
import { showKernel, usage as kernelUsage } from './kernel-show.js';

export const usage = kernelUsage('btf');

export function run(args: string[]): Promise<number> {
  return showKernel('btf', args);
}
