/**
 * Where the CLI finds the files of its own package (package.json, examples/,
 * ../shared beside a checkout), from this module's location: dist/src/cli
 * when built, src/cli when run from sources.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes('/dist/') ? resolve(here, '../../..') : resolve(here, '../..');
}
