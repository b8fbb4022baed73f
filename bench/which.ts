/** Is `cmd` on the PATH? (benchmarks skip a baseline, saying why, when its tool is missing) */
import { execFileSync } from 'node:child_process';

export function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
