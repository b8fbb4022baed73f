/**
 * What the kernel-backend tests share: why they cannot run here (not Linux,
 * not root, no koffi, bpf(2) refused, no bpffs), the runtime they use, and
 * a cleanup list run in `finally` so that links, pins and devices go away
 * even when an assertion fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { kernelUnavailable } from '../src/kernel/index.js';

export const BPFFS = '/sys/fs/bpf';

let reason: string | undefined | null = null;

/** Why the kernel tests cannot run here, or undefined when they can (computed once). */
export async function kernelSkip(): Promise<string | undefined> {
  if (reason !== null) return reason;
  reason = await probe();
  if (reason) console.log(`# kernel backend tests skipped: ${reason}`);
  return reason;
}

async function probe(): Promise<string | undefined> {
  const why = await kernelUnavailable();
  if (why) return why;
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8');
    if (!mounts.split('\n').some((l) => l.split(' ')[1] === BPFFS && l.split(' ')[2] === 'bpf')) execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS], { stdio: 'ignore' });
  } catch {
    return 'bpffs is not mounted at /sys/fs/bpf and cannot be';
  }
  return undefined;
}

import { which } from './support/tools.js';
export { which };

/** Undo steps run last-in first-out; each runs even if an earlier one throws. */
export class Cleanup {
  private readonly steps: Array<() => void> = [];
  add(step: () => void): void {
    this.steps.push(step);
  }
  run(): void {
    for (const s of this.steps.splice(0).reverse()) {
      try {
        s();
      } catch {
        // keep undoing the rest
      }
    }
  }
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export const exists = existsSync;
