/** Shared by the object tests: the fixtures and the external tools they compare against. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FIXTURES } from './paths.js';

/** Every committed fixture object, little- and big-endian. */
export const FIXTURE_OBJECTS = readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort();

export function fixturePath(name: string): string {
  return resolve(FIXTURES, name);
}

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

/** Whether `cmd` is on PATH (support/tools.ts). */
export { which as hasTool } from './support/tools.js';

export function tool(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Run a command, returning status and both outputs (for tools whose failure is the point). */
export function tryTool(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;
