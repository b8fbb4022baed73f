/**
 * What the kernel-backend tests share: why they cannot run here (not Linux,
 * not root, no koffi, bpf(2) refused, no bpffs), the runtime they use, and
 * a cleanup list run in `finally` so that links, pins and devices go away
 * even when an assertion fails.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MULTIARCH_INCLUDE, ROOT } from './paths.js';
import { readObject } from '../src/object/reader.js';
import type { CollectionSpec } from '../src/object/spec.js';
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

/**
 * A veth pair whose far end (`peer`, default eth0) is in a new network
 * namespace, each end with an address of a /30 in 10.NET.x.y chosen from
 * this process's pid; `undo` deletes both. Returns the near and far address.
 */
export function vethIntoNamespace(undo: Cleanup, o: { ns: string; dev: string; peer?: string; net: number }): { here: string; there: string } {
  const peer = o.peer ?? 'eth0';
  const there = `10.${o.net}.${(process.pid >> 6) & 0xff}.${(process.pid & 0x3f) * 4 + 2}`;
  const here = there.replace(/\d+$/, (x) => String(Number(x) - 1));
  execFileSync('ip', ['netns', 'add', o.ns]);
  undo.add(() => execFileSync('ip', ['netns', 'del', o.ns]));
  execFileSync('ip', ['link', 'add', o.dev, 'type', 'veth', 'peer', 'name', peer, 'netns', o.ns]);
  undo.add(() => execFileSync('ip', ['link', 'del', o.dev]));
  execFileSync('ip', ['addr', 'add', `${here}/30`, 'dev', o.dev]);
  execFileSync('ip', ['link', 'set', o.dev, 'up']);
  execFileSync('ip', ['-n', o.ns, 'addr', 'add', `${there}/30`, 'dev', peer]);
  execFileSync('ip', ['-n', o.ns, 'link', 'set', peer, 'up']);
  return { here, there };
}

/** A UDP listener in namespace `ns` on `port` (a child node process, killed by `undo`): it prints `listening`, then `got MSG` per datagram. */
export function udpListener(undo: Cleanup, ns: string, port: number): { output: () => string } {
  const listen = `const s=require('dgram').createSocket('udp4');s.on('message',(m)=>console.log('got '+m));s.bind(${port},()=>console.log('listening'))`;
  const far = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', listen], { stdio: ['ignore', 'pipe', 'pipe'] });
  undo.add(() => far.kill());
  let got = '';
  far.stdout!.on('data', (d: Buffer) => (got += d.toString()));
  far.stderr!.on('data', (d: Buffer) => (got += d.toString()));
  return { output: () => got };
}

/**
 * A BPF C source of test/kernel-progs built with clang-19 (`-O2 -g`, this
 * machine's multiarch headers, `args` added, e.g. -D...) and read as a
 * CollectionSpec; the object file goes with its temporary directory.
 */
export function buildKernelProg(source: string, name: string, args: string[] = []): CollectionSpec {
  const dir = mkdtempSync(join(tmpdir(), `tsbpf-${name}-`));
  try {
    const obj = join(dir, `${name}.o`);
    execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', MULTIARCH_INCLUDE, ...args, '-c', join(ROOT, 'test/kernel-progs', source), '-o', obj], { stdio: 'pipe' });
    return readObject(new Uint8Array(readFileSync(obj)), { name });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
