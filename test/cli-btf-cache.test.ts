/**
 * The kernel BTF's parse kept across CLI calls (src/cli/btf-input.ts, Btf.parseState/reopen):
 * a second call answers from the state the first left, with the same types and lookups as a
 * parse; a file that changed, a state that does not fit it and split BTF are parsed again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Btf, BtfError, essentialName } from '../src/object/btf/index.js';
import { btfCache, readBtfPath, type BtfCache } from '../src/cli/btf-input.js';
import { parseElf } from '../src/object/elf.js';
import { ROOT } from './paths.js';

const KERNEL_BTF = resolve(ROOT, 'test/real-progs/kernel.btf');

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-cache-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every type and a sample of lookups, as plain data. */
function answers(btf: Btf): unknown {
  const names = btf.types.filter((t, i) => i % 7 === 1 && t.name !== '').map((t) => t.name);
  return {
    length: btf.length,
    types: btf.types,
    byName: names.map((n) => btf.idsByName(n)),
    byEssential: names.map((n) => btf.idsByEssentialName(essentialName(n))),
  };
}

const states = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.btfstate'));

/** kernel.btf copied into `dir`, read once through a cache there: the state is kept. */
function kept(dir: string): { cache: BtfCache; file: string; first: Btf } {
  const cache: BtfCache = { dir: join(dir, 'cache'), minBytes: 0 };
  const file = join(dir, 'vmlinux');
  copyFileSync(KERNEL_BTF, file);
  return { cache, file, first: readBtfPath(file, undefined, cache) };
}

/** The kept state file's path, its 32-bit words (a copy), where its offsets, hashes and blob start. */
function stateWords(cache: BtfCache): { path: string; words: Uint32Array; offsetsAt: number; hashesAt: number; nHashes: number; blob: Uint8Array } {
  const path = join(cache.dir, states(cache.dir)[0]!);
  const b = readFileSync(path);
  const words = new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  const offsetsAt = 3 + Math.ceil(words[2]! / 4) + 3;
  const [nOffsets, nHashes, nBlob] = words.subarray(offsetsAt - 3, offsetsAt);
  const hashesAt = offsetsAt + nOffsets!;
  const blobAt = (hashesAt + 2 * nHashes!) * 4;
  return { path, words, offsetsAt, hashesAt, nHashes: nHashes!, blob: new Uint8Array(words.buffer, blobAt, nBlob) };
}

test('a second call answers from the kept state, as a parse does', () => {
  withDir((dir) => {
    const { cache, file, first } = kept(dir);
    const parsed = Btf.parse(new Uint8Array(readFileSync(file)));
    assert.equal(states(cache.dir).length, 1);
    const second = readBtfPath(file, undefined, cache);
    // lookups before any type is built: the kept name hashes answer them
    const task = second.idsByName('task_struct');
    assert.deepEqual(task, parsed.idsByName('task_struct'));
    assert.ok(task.length > 0);
    assert.deepEqual(answers(second), answers(parsed));
    assert.deepEqual(answers(first), answers(parsed));
    // the state keeps the blob itself (the next call reads it instead of the file)
    const { path, words, hashesAt, nHashes, blob } = stateWords(cache);
    assert.deepEqual(blob, new Uint8Array(readFileSync(file)));
    // and it is the state that answers (no parse): with its name hashes zeroed, no name is found
    words.fill(0, hashesAt, hashesAt + 2 * nHashes);
    writeFileSync(path, words);
    assert.deepEqual(readBtfPath(file, undefined, cache).idsByName('task_struct'), []);
  });
});

test('a changed file is parsed again, not answered from the old state', () => {
  withDir((dir) => {
    const { cache, file } = kept(dir);
    // another blob at the same path, with the old modification time put back
    const old = statSync(file);
    const raw = sectionBytes(readFileSync(resolve(ROOT, 'test/fixtures-btf/core.o')), '.BTF');
    writeFileSync(file, raw);
    utimesSync(file, old.atime, old.mtime);
    const again = readBtfPath(file, undefined, cache);
    assert.deepEqual(answers(again), answers(Btf.parse(raw)));
    // the old file's state is replaced, not kept beside the new one
    assert.equal(states(cache.dir).length, 1);
  });
});

test('a state that does not fit the blob is not used', () => {
  withDir((dir) => {
    const { cache, file } = kept(dir);
    const { path: statePath, words, offsetsAt } = stateWords(cache);
    const kept0 = readFileSync(statePath);
    // offsets past the type section: reopen refuses them and the call parses
    words[offsetsAt + 1] = 0xfffffff0;
    writeFileSync(statePath, words);
    assert.deepEqual(answers(readBtfPath(file, undefined, cache)), answers(Btf.parse(new Uint8Array(readFileSync(file)))));
    // a truncated state is no state
    writeFileSync(statePath, kept0.subarray(0, kept0.length - 8));
    assert.deepEqual(answers(readBtfPath(file, undefined, cache)), answers(Btf.parse(new Uint8Array(readFileSync(file)))));
  });
});

test('Btf.reopen checks the state against the header', () => {
  const bytes = new Uint8Array(readFileSync(KERNEL_BTF));
  const btf = Btf.parse(bytes);
  const state = btf.parseState()!;
  assert.deepEqual(answers(Btf.reopen(bytes, state)), answers(btf));
  assert.throws(() => Btf.reopen(bytes, { ...state, plainHashes: state.plainHashes.subarray(1) }), BtfError);
  const backwards = state.typeOffsets.slice();
  backwards[2] = backwards[1]!;
  assert.throws(() => Btf.reopen(bytes, { ...state, typeOffsets: backwards }), BtfError);
  // built types have no state to keep
  assert.equal(Btf.fromTypes([]).parseState(), undefined);
});

test('without a cache (TSBPF_BTF_CACHE=0) or below the size, nothing is written', () => {
  withDir((dir) => {
    const file = join(dir, 'vmlinux');
    copyFileSync(KERNEL_BTF, file);
    const small: BtfCache = { dir: join(dir, 'cache'), minBytes: 1 << 30 };
    readBtfPath(file, undefined, small);
    readBtfPath(file, undefined, undefined);
    assert.throws(() => readdirSync(small.dir), /ENOENT/);
    assert.equal(btfCache({ TSBPF_BTF_CACHE: '0' }), undefined);
    assert.equal(btfCache({ TSBPF_BTF_CACHE: dir })?.dir, dir);
    assert.equal(btfCache({ XDG_CACHE_HOME: dir })?.dir, join(dir, 'tsbpf', 'btf'));
  });
});

/** An object's section (its .BTF is a raw blob, as /sys/kernel/btf files are). */
function sectionBytes(file: Buffer, name: string): Uint8Array {
  const sec = parseElf(new Uint8Array(file.buffer, file.byteOffset, file.length)).sections.find((s) => s.name === name);
  assert.ok(sec, `no ${name}`);
  return sec.data.slice();
}
