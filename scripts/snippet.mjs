#!/usr/bin/env node
// The TypeScript/JavaScript snippets of a Markdown file, as JavaScript: TypeScript's
// transpileModule strips the types and changes nothing else. test/readme-example.test.ts runs
// every snippet of README.md and docs/hooks.md inside the repository; the CI suite
// .ci/suites/80-package.sh runs the README's library example in a project that installed the
// packed package: `node scripts/snippet.mjs README.md 0 > example.mjs`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The ```ts / ```js blocks of a Markdown text, with the 1-based line of each block's first line. */
export function snippets(markdown) {
  const out = [];
  for (const m of markdown.matchAll(/^```(?:ts|js|typescript|javascript)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)) {
    out.push({ line: markdown.slice(0, m.index).split('\n').length + 1, code: m[1] });
  }
  return out;
}

/** A snippet as an ES module: types stripped; diagnostics are the syntax errors, if any. */
export function toJs(code) {
  const r = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
  });
  return { js: r.outputText, diagnostics: (r.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, index = '0'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node scripts/snippet.mjs FILE.md [INDEX]');
    process.exit(2);
  }
  const all = snippets(readFileSync(file, 'utf8'));
  const s = all[Number(index)];
  if (!s) {
    console.error(`${file} has ${all.length} ts/js snippets; no snippet ${index}`);
    process.exit(1);
  }
  const { js, diagnostics } = toJs(s.code);
  if (diagnostics.length) {
    console.error(`${file}:${s.line}: ${diagnostics.join('; ')}`);
    process.exit(1);
  }
  process.stdout.write(js);
}
