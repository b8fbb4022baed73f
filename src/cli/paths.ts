/**
 * Where the CLI finds the files of its own package (package.json, examples/,
 * dist/playground-site, ../shared beside a checkout). Found by walking up from
 * this module to the directory whose package.json names tsbpf, so the answer
 * is the same from src/cli (sources), dist/src/cli (tsc's output) and
 * dist/cli (the bundled command, whose chunks sit at another depth).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let d = start; ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'tsbpf') return (root = d);
      } catch {
        // not ours (or unreadable): keep walking up
      }
    }
    if (dirname(d) === d) break;
  }
  throw new Error(`tsbpf's package.json not found above ${start}`);
}

/** The built library's folder in this package: dist/src (sources run through tsc or the bundle both ship it). */
export function libraryDir(): string {
  return join(packageRoot(), 'dist', 'src');
}
