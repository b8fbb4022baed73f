/**
 * The README's library example, checked step by step, then every TypeScript and JavaScript
 * snippet of README.md, docs/hooks.md and docs/variables.md run as written: each is transpiled (scripts/snippet.mjs:
 * TypeScript's transpileModule strips the types, nothing else), written under dist/test/snippets/ inside the
 * repository so that `import ... from 'tsbpf'` resolves through package.json's exports as a
 * user's would (a package may import itself by name), and run by node from the repository root
 * (the snippets' relative paths: fixtures/, examples/). So the docs cannot drift from the API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Runtime, loadObjectFile } from '../src/index.js';
import { FIXTURES, ROOT } from './paths.js';

/** An Ethernet + IPv4 header (UDP, source 10.0.0.1), padded to 64 bytes. */
function udpPacket(): Uint8Array {
  const p = new Uint8Array(64);
  p.set([0x08, 0x00], 12); // EtherType IPv4
  p[14] = 0x45; // version 4, IHL 5
  p[23] = 17; // protocol UDP
  p.set([10, 0, 0, 1], 26); // source address
  return p;
}

test('README: load an object, run a program, read and write its maps from the host', async () => {
  const rt = new Runtime();
  const coll = await rt.load(await loadObjectFile(resolve(FIXTURES, 'xdp_firewall.o')));
  const prog = coll.program('xdp_firewall');
  const { retval, data } = prog.run({ data: udpPacket(), repeat: 100 });
  assert.equal(retval, 2); // XDP_PASS
  assert.equal(data?.length, 64);

  const counts = coll.map('proto_count', 'array');
  const udp = counts.get(new Uint8Array([17, 0, 0, 0])) as Uint8Array;
  assert.equal(new DataView(udp.buffer, udp.byteOffset).getBigUint64(0, true), 100n);
  let nonZero = 0;
  for (const [, value] of counts.entries()) if ((value as Uint8Array).some((b) => b !== 0)) nonZero++;
  assert.equal(nonZero, 1);

  // The host blocks 10.0.0.1; the program now drops the same packet.
  coll.map('blocklist', 'hash').set(new Uint8Array([10, 0, 0, 1]), new Uint8Array([1]));
  assert.equal(prog.run({ data: udpPacket() }).retval, 1); // XDP_DROP
  coll.close();
  rt.close();
});

/** scripts/snippet.mjs: the Markdown snippets and their JavaScript (one extractor for the test and CI). */
interface SnippetTools {
  snippets(markdown: string): Array<{ line: number; code: string }>;
  toJs(code: string): { js: string; diagnostics: string[] };
}
const { snippets, toJs } = (await import(pathToFileURL(resolve(ROOT, 'scripts/snippet.mjs')).href)) as SnippetTools;

/**
 * The browser snippet fetches the object by a relative URL; under Node a fetch that serves such
 * URLs from fixtures/ stands in for the page's server. Nothing else is added to a snippet.
 */
const FETCH_FIXTURES = `{ const f = globalThis.fetch; globalThis.fetch = async (url) => (/^[a-z]+:/.test(String(url)) ? f(url) : new Response((await import('node:fs')).readFileSync('fixtures/' + url))); }\n`;

for (const file of ['README.md', 'docs/hooks.md', 'docs/variables.md']) {
  const all = snippets(readFileSync(resolve(ROOT, file), 'utf8'));
  test(`${file}: every TypeScript and JavaScript snippet runs as written (${all.length})`, () => {
    assert.ok(all.length > 0, `${file} has snippets`);
    const dir = resolve(ROOT, 'dist/test/snippets');
    mkdirSync(dir, { recursive: true });
    for (const s of all) {
      const where = `${file}:${s.line}`;
      const { js, diagnostics } = toJs(s.code);
      assert.deepEqual(diagnostics, [], `${where}: does not parse`);
      const path = resolve(dir, `${file.replace(/[/.]/g, '_')}_${s.line}.mjs`);
      writeFileSync(path, (s.code.includes('fetch(') ? FETCH_FIXTURES : '') + js);
      const r = spawnSync(process.execPath, [path], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `${where}: exit ${r.status}\n${r.stderr}`);
    }
  });
}
