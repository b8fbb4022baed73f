/** Locations the tests share: the repository root and ../shared beside it. */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (tests run compiled from dist/test/). */
export const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');
export const SHARED = process.env.TSBPF_SHARED ?? resolve(ROOT, '../shared');
export const CONFORMANCE_DIR = resolve(SHARED, 'bpf-conformance');
export const FIXTURES = resolve(ROOT, 'fixtures');
export const BIN = resolve(ROOT, 'bin/tsbpf');
/**
 * clang's flag for Debian's multiarch headers (asm/types.h, which linux/bpf.h includes), named
 * after the machine as `-I/usr/include/$(uname -m)-linux-gnu` is in the README.
 */
export const MULTIARCH_INCLUDE = `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : process.arch === 'x64' ? 'x86_64' : process.arch}-linux-gnu`;

/**
 * Why the tests that read the bpf_conformance suite cannot run here, or false when they can.
 * The suite is not part of the repository: CI puts it in ../shared beside the clone
 * (TSBPF_SHARED names another folder that holds bpf-conformance/). Tests pass this as
 * `{ skip: CONFORMANCE_MISSING }`, so a fresh clone skips them with this one reason.
 */
export const CONFORMANCE_MISSING: string | false =
  existsSync(resolve(CONFORMANCE_DIR, 'tests')) && existsSync(resolve(CONFORMANCE_DIR, 'bytecode'))
    ? false
    : `needs the bpf_conformance suite at ${CONFORMANCE_DIR} (not in the repository; set TSBPF_SHARED to the folder holding bpf-conformance/)`;
