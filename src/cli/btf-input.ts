/** A BTF file named on the command line (`btf dump FILE`, `-B BASE`, `--kernel-btf F`): bounded, ELF or raw BTF. */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { fnv1a, userCacheBase } from './cache-dir.js';
import { TsbpfError } from '../errors.js';
import { MAGIC, readBounded, type ReadOptions } from '../bounded-read.js';
import { loadBtfFile } from '../object/btf/file.js';
import { Btf, type BtfParseState } from '../object/btf/btf.js';

const btfInput = (path: string): ReadOptions => ({
  kind: 'btf',
  magic: { prefixes: [MAGIC.elf, MAGIC.btfLe, MAGIC.btfBe], error: () => new TsbpfError('EINVAL', `${path}: neither an ELF object nor a BTF blob`) },
});

export function readBtfPath(path: string, base?: Btf, cache: BtfCache | undefined = btfCache()): Btf {
  const dir = base ? undefined : cache?.dir;
  const id = dir === undefined ? undefined : statIdentity(path);
  // one state per path: a new boot or kernel replaces the last one's (writeState)
  const prefix = `${fnv1a(path)}-`;
  const file = dir === undefined || id === undefined ? undefined : join(dir, `${prefix}${fnv1a(id)}.btfstate`);
  const kept = file === undefined ? undefined : readState(file, id!);
  if (kept) {
    try {
      return Btf.reopen(kept.blob, kept.state);
    } catch {
      // a state that does not fit its blob: read and parse the file, and keep it again
    }
  }
  const bytes = readBounded(path, btfInput(path));
  // a file replaced or written while it was read is parsed, not kept
  if (file === undefined || id !== statIdentity(path) || bytes.length < cache!.minBytes || !isRawBtf(bytes) || !LITTLE_ENDIAN_HOST) return loadBtfFile(bytes, base);
  const btf = loadBtfFile(bytes);
  const fresh = btf.parseState();
  if (fresh) writeState(dir!, file, id!, fresh, bytes, prefix);
  return btf;
}

/**
 * The kernel's BTF parse kept across CLI calls (BENCHMARKS.md "Kernel BTF per CLI call").
 * Parsing /sys/kernel/btf/vmlinux checks every one of its ~126k records and references and
 * hashes every name, about two thirds of what `--kernel-btf` costs a command; the file is the
 * same on every call until the next boot. So the blob and what its parse found (each record's
 * offset and the names' hashes, `Btf.parseState`) are kept in the user's cache, keyed by the
 * file's identity: path, device, inode, size, and modification and change times in nanoseconds
 * (the change time is the kernel's own: no user can set it back; sysfs files take theirs at
 * boot). The next call reads the kept blob, one regular file, instead of the ~1,340 one-page
 * reads sysfs answers, and skips the checks: `Btf.reopen`.
 * The cache sits beside the code cache the command already runs from (src/cli/bundle.ts), with
 * the same trust: only the user can write either. TSBPF_BTF_CACHE=DIR puts it elsewhere,
 * TSBPF_BTF_CACHE=0 turns it off; only raw BTF blobs of 256 KiB or more are kept, not split BTF
 * (a module's BTF on its base) and not an ELF object's.
 */
export function btfCache(env: NodeJS.ProcessEnv = process.env): BtfCache | undefined {
  const set = env.TSBPF_BTF_CACHE;
  if (set === '0') return undefined;
  return { dir: set || join(userCacheBase(env), 'btf'), minBytes: 256 * 1024 };
}

/** Where the kernel BTF's parse is kept, and the smallest blob worth a file (smaller ones parse in a few ms). */
export interface BtfCache {
  dir: string;
  minBytes: number;
}

/** The state file: magic, version, identity, the three arrays' and the blob's lengths, the arrays in the host's (little-endian) order, the blob. */
const STATE_MAGIC = 0x53504254; // 'TBPS'
const STATE_VERSION = 2;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const isRawBtf = (b: Uint8Array): boolean => b.length >= 2 && ((b[0] === 0x9f && b[1] === 0xeb) || (b[0] === 0xeb && b[1] === 0x9f));

/** The file's identity (undefined when it cannot be stat'ed: readBounded then reports why). */
function statIdentity(path: string): string | undefined {
  let st: BigIntStats | undefined;
  try {
    st = statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  return st && st.isFile() ? `${path}\n${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : undefined;
}

/** The blob and state kept for `id`, or undefined (none, another file's, another version, truncated). */
function readState(file: string, id: string): { blob: Uint8Array; state: BtfParseState } | undefined {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch {
    return undefined;
  }
  if (raw.length < 12 || raw.length % 4 !== 0) return undefined;
  // the arrays are views of the file's bytes: they must start 4-byte aligned
  const buf = raw.byteOffset % 4 === 0 ? raw : Buffer.from(raw);
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  if (words[0] !== STATE_MAGIC || words[1] !== STATE_VERSION) return undefined;
  const idLen = words[2]!;
  const idWords = Math.ceil(idLen / 4);
  if (3 + idWords + 3 > words.length) return undefined;
  if (buf.toString('utf8', 12, 12 + idLen) !== id) return undefined;
  let at = 3 + idWords;
  const nOffsets = words[at++]!;
  const nHashes = words[at++]!;
  const nBlob = words[at++]!;
  if (at + nOffsets + 2 * nHashes + Math.ceil(nBlob / 4) !== words.length) return undefined;
  const typeOffsets = words.subarray(at, (at += nOffsets));
  const plainHashes = words.subarray(at, (at += nHashes));
  const essentialHashes = words.subarray(at, (at += nHashes));
  const blob = new Uint8Array(buf.buffer, buf.byteOffset + at * 4, nBlob);
  return { blob, state: { typeOffsets, plainHashes, essentialHashes } };
}

/**
 * Write the state atomically (a concurrent call reads the old file or the new, never half) and
 * remove the path's older states; a cache that cannot be written is no error.
 */
function writeState(dir: string, file: string, id: string, s: BtfParseState, blob: Uint8Array, prefix: string): void {
  const idBytes = Buffer.from(id, 'utf8');
  const idWords = Math.ceil(idBytes.length / 4);
  const words = new Uint32Array(3 + idWords + 3 + s.typeOffsets.length + 2 * s.plainHashes.length + Math.ceil(blob.length / 4));
  words[0] = STATE_MAGIC;
  words[1] = STATE_VERSION;
  words[2] = idBytes.length;
  new Uint8Array(words.buffer).set(idBytes, 12);
  let at = 3 + idWords;
  words[at++] = s.typeOffsets.length;
  words[at++] = s.plainHashes.length;
  words[at++] = blob.length;
  words.set(s.typeOffsets, at);
  words.set(s.plainHashes, (at += s.typeOffsets.length));
  words.set(s.essentialHashes, (at += s.plainHashes.length));
  new Uint8Array(words.buffer).set(blob, (at + s.essentialHashes.length) * 4);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, words);
    renameSync(tmp, file);
    // the same path's states of earlier boots (or of a file since rewritten)
    for (const f of readdirSync(dir)) if (f.startsWith(prefix) && f.endsWith('.btfstate') && join(dir, f) !== file) rmSync(join(dir, f), { force: true });
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written
    }
  }
}

/** `--kernel-btf F`, shared by every command that relocates CO-RE or judges tracing programs. */
export const KERNEL_BTF_OPTION = { 'kernel-btf': { type: 'string' } } as const;

export const KERNEL_BTF_USAGE = `  --kernel-btf F  the kernel's BTF (bpftool's kernel_btf; e.g. /sys/kernel/btf/vmlinux): CO-RE
                  relocations resolve against it, as libbpf's do, and it types tracing
                  targets and kernel-object pointers; without it, tsbpf's own types
`;

/** The BTF `--kernel-btf` names, read and parsed once (undefined without the option). */
export function kernelBtfOption(values: Record<string, unknown>): Btf | undefined {
  const path = values['kernel-btf'];
  return typeof path === 'string' ? readBtfPath(path) : undefined;
}
