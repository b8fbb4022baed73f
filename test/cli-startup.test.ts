/**
 * Start-up of the CLI (issue 17): a command loads the modules it uses and no
 * others. Which modules load is recorded by an ESM resolve hook (module.register)
 * around `tsbpf prog run` and `tsbpf version`; the time it takes is the
 * startup benchmark's business (bench/startup.bench.ts), not a test's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FIXTURES, ROOT } from './paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-cli-startup-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
writeFileSync(
  join(tmp, 'hooks.mjs'),
  `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith('file:')) process.stderr.write('LOADED ' + r.url + '\\n'); return r; }\n`,
);
writeFileSync(join(tmp, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(tmp, 'hooks.mjs')).href)});\n`);
const pkt = join(tmp, 'pkt');
writeFileSync(pkt, new Uint8Array(64));

/** The files (relative to the repository) a CLI invocation loads, and its exit status. */
function modulesOf(args: string[]): { loaded: string[]; status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(tmp, 'register.mjs')).href, join(ROOT, 'bin/tsbpf'), ...args], { encoding: 'utf8' });
  const loaded = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('LOADED '))
    .map((l) => relative(ROOT, fileURLToPath(l.slice(7))));
  return { loaded: [...new Set(loaded)].sort(), status: r.status, out: r.stdout };
}

test('tsbpf prog run loads its command, the runtime and the engines; no kernel backend, hooks, BTF dumpers, WebAssembly printer or packages', () => {
  const { loaded, status, out } = modulesOf(['prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'xdp_pass', 'data_in', pkt]);
  assert.equal(status, 0, out);
  assert.match(out, /Return value: 2/);
  for (const want of ['dist/src/cli/commands/prog-run.js', 'dist/src/runtime/runtime.js', 'dist/src/verifier/index.js', 'dist/src/vm/jit/engine.js'])
    assert.ok(loaded.includes(want), `${want} is loaded`);
  const unwanted = loaded.filter(
    (f) =>
      (f.startsWith('dist/src/cli/commands/') && f !== 'dist/src/cli/commands/prog-run.js') ||
      /^dist\/src\/(kernel|hooks|conformance|testing)\//.test(f) ||
      /^dist\/src\/object\/btf\/(dump-c|dump-raw|json)\.js$/.test(f) ||
      // the WebAssembly text printer is `prog dump jited`'s
      f === 'dist/src/vm/jit/wat.js' ||
      f.includes('node_modules/'),
  );
  assert.deepEqual(unwanted, [], 'modules prog run does not use');
});

test('tsbpf version loads the dispatcher and its own command only', () => {
  const { loaded, status } = modulesOf(['version']);
  assert.equal(status, 0);
  const src = loaded.filter((f) => f.startsWith('dist/src/'));
  assert.ok(src.includes('dist/src/cli/commands/version.js'), src.join(' '));
  assert.deepEqual(
    // (errors and the bounded file reader are the dispatcher's own)
    src.filter((f) => !f.startsWith('dist/src/cli/') && f !== 'dist/src/errors.js' && f !== 'dist/src/bounded-read.js'),
    [],
    'no runtime, verifier, engines or maps for `version`',
  );
});
