/**
 * Set-up the tests share: whether a tool is installed, whether the tests run
 * as root. One definition instead of a copy in each test file; a test that
 * needs what is missing skips with the reason (t.skip / { skip }).
 */
import { spawnSync } from 'node:child_process';

/** Whether `cmd` is on PATH (the shell's `command -v`, so builtins and aliases count as the shell sees them). */
export function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Whether the tests run as root (loading programs into the kernel, mounting bpffs need it). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
