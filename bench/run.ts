/**
 * `npm run bench`: runs every benchmark module in this folder (compiled to
 * dist/bench/*.bench.js) in name order. Each prints its own table with ratios
 * against a baseline measured in the same run. Pass names to run a subset:
 * `npm run bench -- interp maps`.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
for (const f of files) {
  const mod = (await import(pathToFileURL(`${here}/${f}`).href)) as { main?: () => Promise<void> };
  if (typeof mod.main === 'function') await mod.main();
}
