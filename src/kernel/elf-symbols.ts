/**
 * Symbols to file offsets in a native ELF64 binary or library, as libbpf
 * resolves them for uprobes:
 *  - one name (elf_resolve_syms_offsets): .symtab, then .dynsym, a defined
 *    STT_FUNC (or STT_GNU_IFUNC) of that name;
 *  - a glob (elf_resolve_pattern_offsets, for uprobe.multi): every defined
 *    STT_FUNC of both tables whose name matches, offsets sorted and
 *    duplicates (the same function in both tables) dropped.
 * A virtual address becomes a file offset through the section that holds it
 * (st_value - sh_addr + sh_offset). Data symbols (`object: true`) give the
 * file offset of a variable, e.g. a USDT semaphore for ref_ctr_offsets.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TsbpfError } from '../errors.js';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

export interface ElfSymbol {
  name: string;
  /** the file offset of the symbol's first byte */
  offset: number;
  type: number;
}

/** Every defined symbol of `path`'s .symtab, then its .dynsym. */
function elfSymbols(path: string): ElfSymbol[] {
  let b: Uint8Array;
  try {
    b = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new TsbpfError('ENOENT', `uprobe: cannot read ${path}: ${(e as Error).message}`);
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 64 || dv.getUint32(0) !== 0x7f454c46) throw new TsbpfError('ENOEXEC', `uprobe: ${path} is not an ELF file`);
  if (b[4] !== 2 || b[5] !== 1) throw new TsbpfError('ENOEXEC', `uprobe: ${path} is not a 64-bit little-endian ELF file`);
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true);
  const shnum = dv.getUint16(0x3c, true);
  if (shoff + shnum * shentsize > b.length || shentsize < 64) throw new TsbpfError('ENOEXEC', `uprobe: ${path}: section headers out of bounds`);
  const sh = (i: number): { type: number; addr: number; offset: number; size: number; link: number; entsize: number } => {
    const o = shoff + i * shentsize;
    return {
      type: dv.getUint32(o + 4, true),
      addr: Number(dv.getBigUint64(o + 16, true)),
      offset: Number(dv.getBigUint64(o + 24, true)),
      size: Number(dv.getBigUint64(o + 32, true)),
      link: dv.getUint32(o + 40, true),
      entsize: Number(dv.getBigUint64(o + 56, true)),
    };
  };
  const dec = new TextDecoder();
  const out: ElfSymbol[] = [];
  for (const want of [SHT_SYMTAB, SHT_DYNSYM]) {
    for (let i = 0; i < shnum; i++) {
      const s = sh(i);
      if (s.type !== want || s.entsize < 24 || s.offset + s.size > b.length || s.link >= shnum) continue;
      const str = sh(s.link);
      for (let o = s.offset; o + 24 <= s.offset + s.size; o += s.entsize) {
        const shndx = dv.getUint16(o + 6, true);
        // SHN_UNDEF and the reserved indexes (SHN_ABS, SHN_COMMON) hold no bytes of the file
        if (shndx === 0 || shndx >= shnum) continue;
        const nameOff = str.offset + dv.getUint32(o, true);
        if (nameOff >= b.length) continue;
        let end = nameOff;
        while (end < b.length && b[end] !== 0) end++;
        const home = sh(shndx);
        out.push({ name: dec.decode(b.subarray(nameOff, end)), offset: Number(dv.getBigUint64(o + 8, true)) - home.addr + home.offset, type: b[o + 4]! & 0xf });
      }
    }
  }
  return out;
}

/** The file offset of function `symbol` (or of a variable, with `object`). */
export function symbolOffset(path: string, symbol: string, o: { object?: boolean } = {}): number {
  const types = o.object ? [STT_OBJECT] : [STT_FUNC, STT_GNU_IFUNC];
  // versioned names (`malloc@@GLIBC_2.2.5`) match their base name
  const s = elfSymbols(path).find((x) => types.includes(x.type) && (x.name === symbol || x.name.split('@')[0] === symbol));
  if (!s) throw new TsbpfError('ENOENT', `uprobe: no ${o.object ? 'variable' : 'function'} ${symbol} in ${path}`);
  return s.offset;
}

/** libbpf's glob_match: `*` is any run of characters, `?` any one; nothing else is special. */
export function globMatch(s: string, pat: string): boolean {
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < pat.length && (pat[pi] === '?' || pat[pi] === s[si])) {
      si++;
      pi++;
    } else if (pi < pat.length && pat[pi] === '*') {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else return false;
  }
  while (pat[pi] === '*') pi++;
  return pi === pat.length;
}

/** The offsets of every function of `path` whose name matches `pattern`, ascending, each once (elf_resolve_pattern_offsets). */
export function patternOffsets(path: string, pattern: string): number[] {
  const offs = elfSymbols(path).filter((s) => s.type === STT_FUNC && globMatch(s.name, pattern)).map((s) => s.offset);
  const uniq = [...new Set(offs)].sort((a, b) => a - b);
  if (uniq.length === 0) throw new TsbpfError('ENOENT', `uprobe.multi: no function matching ${pattern} in ${path}`);
  return uniq;
}

/**
 * A binary named without a directory, found as libbpf's resolve_full_path
 * does: a library (`.so` in the name) in LD_LIBRARY_PATH then the system's
 * library directories, anything else in PATH.
 */
export function resolveBinaryPath(name: string): string {
  if (name.includes('/')) return name;
  const lib = name.includes('.so');
  const dirs = lib
    ? [...(process.env['LD_LIBRARY_PATH'] ?? '').split(delimiter), '/lib64', '/usr/lib64', '/lib', '/usr/lib', `/lib/${multiarch()}`, `/usr/lib/${multiarch()}`]
    : (process.env['PATH'] ?? '').split(delimiter);
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, lib ? constants.R_OK : constants.X_OK);
      return p;
    } catch {
      // next directory
    }
  }
  throw new TsbpfError('ENOENT', `uprobe: ${name} is not found in ${lib ? 'the library path' : 'PATH'}`);
}

function multiarch(): string {
  return process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
}
