#!/usr/bin/env node
// The package's build, run by `npm pack` and `npm publish` (prepack): dist/src afresh from src/
// with tsconfig.build.json (no source maps, no tests), so the tarball ships exactly the built
// library and no stale file of an earlier build; the bundled command (dist/cli); then the browser playground's static site
// (dist/playground-site, which `tsbpf playground` serves). Installing the package builds nothing.
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(resolve(root, 'dist/src'), { recursive: true, force: true });
const tsc = createRequire(resolve(root, 'package.json')).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', resolve(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
// the bundled command bin/tsbpf runs (dist/cli), from the dist/src just built
const bundle = spawnSync(process.execPath, [resolve(root, 'scripts/bundle-cli.mjs')], { stdio: ['ignore', 2, 'inherit'] });
if (bundle.status !== 0) process.exit(bundle.status ?? 1);
// The site's bundler writes dist/playground-site afresh (emptyOutDir); its output goes to stderr
// so that `npm pack`'s stdout stays the tarball's name.
const site = spawnSync('npm', ['run', '--silent', 'build:playground'], { cwd: root, stdio: ['ignore', 2, 'inherit'] });
process.exit(site.status ?? 1);
