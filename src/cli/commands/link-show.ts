/** `tsbpf link show`: the kernel's links, as bpftool lists them (kernel-show.ts). */
import { showKernel, usage as kernelUsage } from './kernel-show.js';

export const usage = kernelUsage('link');

export function run(args: string[]): Promise<number> {
  return showKernel('link', args);
}
