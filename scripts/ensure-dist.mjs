// bin/tsbpf and bin/tsbpf-conformance-plugin run the built files in dist/. The package ships
// them built; a clone of the repository has only src/ until its first build. There, the first
// run builds dist/ as `npm run build` does (typescript is a devDependency, so `npm ci` installed
// it) and says so on stderr; anywhere else it says what is missing instead of a stack trace.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Make sure `dist/<built>` exists (a path relative to the package root); exits when it cannot. */
export function ensureDist(built) {
  if (existsSync(resolve(root, 'dist', built))) return;
  let tsc;
  try {
    tsc = createRequire(resolve(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    tsc = undefined;
  }
  if (!existsSync(resolve(root, 'tsconfig.json')) || !existsSync(resolve(root, 'src')) || !tsc) {
    console.error(`tsbpf: ${resolve(root, 'dist', built)} is missing and cannot be built here: in a clone of the repository run \`npm ci\` (then \`npm run build\`); an installed package ships it, so reinstall it`);
    process.exit(1);
  }
  console.error('tsbpf: first run in this clone: building dist/ from src/ (npm run build) ...');
  const r = spawnSync(process.execPath, [tsc, '-p', resolve(root, 'tsconfig.json')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0 || !existsSync(resolve(root, 'dist', built))) {
    console.error('tsbpf: the build failed (see above); `npm run build` shows the same errors');
    process.exit(1);
  }
}
