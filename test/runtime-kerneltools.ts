/**
 * Talking to the kernel from the differential suites: why they cannot run
 * here (not root, no bpftool, no bpffs), bpftool -j pinned to CPU 0, and
 * bpftool's strerror messages back to errno names.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Errno } from '../src/errors.js';

export const BPFFS = '/sys/fs/bpf';
let TASKSET = false;

import { which } from './support/tools.js';
export { which };

/** Why the suite cannot talk to the kernel here, or undefined when it can. */
export function kernelSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (!which('bpftool')) return 'bpftool is not installed';
  if (!which('taskset')) return 'taskset (util-linux) is not installed';
  TASKSET = true;
  if (!existsSync(BPFFS)) return `${BPFFS} does not exist`;
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8');
    if (!mounts.split('\n').some((l) => l.split(' ')[1] === BPFFS && l.split(' ')[2] === 'bpf')) {
      execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS], { stdio: 'ignore' });
    }
  } catch {
    return 'bpffs is not mounted and cannot be mounted';
  }
  return undefined;
}

/** The kernel's possible CPUs (per-CPU map slots), from /sys/devices/system/cpu/possible ("0-1"). */
export function possibleCpus(): number {
  try {
    const txt = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    return txt.split(',').reduce((n, r) => {
      const [a, b] = r.split('-').map(Number);
      return n + (b === undefined ? 1 : b - a! + 1);
    }, 0);
  } catch {
    return availableParallelism();
  }
}

export interface BpftoolResult {
  ok: boolean;
  json: unknown;
  /** What bpftool (and libbpf, with the verifier's log) printed on stderr. */
  stderr: string;
}

/** Run bpftool -j; pinned to CPU 0 so that per-CPU map slots are deterministic. */
export function bpftool(args: string[]): BpftoolResult {
  try {
    const out = execFileSync(TASKSET ? 'taskset' : 'bpftool', [...(TASKSET ? ['-c', '0', 'bpftool'] : []), '-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, json: out.trim() ? JSON.parse(out) : null, stderr: '' };
  } catch (e) {
    const out = String((e as { stdout?: string }).stdout ?? '').trim();
    let json: unknown = { error: String((e as Error).message) };
    try {
      if (out) json = JSON.parse(out.split('\n')[0]!);
    } catch {
      /* keep the message */
    }
    return { ok: false, json, stderr: String((e as { stderr?: string }).stderr ?? '') };
  }
}

/**
 * The verifier's line when the running kernel refuses a helper the program calls
 * (check_helper_call: "program of this type cannot use helper bpf_x#N" where the program
 * type's get_func_proto has none -- an older kernel, lockdown, a missing capability -- or
 * "unknown func bpf_x#N"). A differential test has no oracle then: it skips, naming the line.
 */
export function helperRefusal(log: string): string | undefined {
  return /(program of this type cannot use helper \S+|unknown func \S+)/.exec(log)?.[1];
}

/** strerror text -> errno name, for the messages bpftool prints. */
export const STRERROR: Record<string, Errno> = {
  'Invalid argument': 'EINVAL',
  'No such device': 'ENODEV',
  'Argument list too long': 'E2BIG',
  'No space left on device': 'ENOSPC',
  'Operation not supported': 'EOPNOTSUPP',
  'Unknown error 524': 'ENOTSUPP',
  'Permission denied': 'EACCES',
  'Bad address': 'EFAULT',
};

export function errnoOf(message: string): Errno | undefined {
  for (const [text, e] of Object.entries(STRERROR)) if (message.includes(text)) return e;
  return undefined;
}


export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
