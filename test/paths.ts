/** Locations the tests share: the repository root and ../shared beside it. */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (tests run compiled from dist/test/). */
export const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');
export const SHARED = process.env.TSBPF_SHARED ?? resolve(ROOT, '../shared');
export const CONFORMANCE_DIR = resolve(SHARED, 'bpf-conformance');
export const FIXTURES = resolve(ROOT, 'fixtures');
export const BIN = resolve(ROOT, 'bin/tsbpf');
