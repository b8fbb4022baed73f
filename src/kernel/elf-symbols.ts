/**
 * Symbol to file offset in a native ELF64 binary or library, as libbpf's
 * elf_resolve_syms_offsets does for uprobes: look in .symtab, then .dynsym,
 * for a defined STT_FUNC (or STT_GNU_IFUNC) of that name, and turn its
 * virtual address into a file offset through the section that holds it
 * (st_value - sh_addr + sh_offset).
 */
import { readFileSync } from 'node:fs';
import { TsbpfError } from '../errors.js';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

export function symbolOffset(path: string, symbol: string): number {
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
  for (const want of [SHT_SYMTAB, SHT_DYNSYM]) {
    for (let i = 0; i < shnum; i++) {
      const s = sh(i);
      if (s.type !== want || s.entsize < 24 || s.offset + s.size > b.length || s.link >= shnum) continue;
      const str = sh(s.link);
      for (let o = s.offset; o + 24 <= s.offset + s.size; o += s.entsize) {
        const info = b[o + 4]!;
        const shndx = dv.getUint16(o + 6, true);
        const t = info & 0xf;
        if ((t !== STT_FUNC && t !== STT_GNU_IFUNC) || shndx === 0 || shndx >= shnum) continue;
        const nameOff = str.offset + dv.getUint32(o, true);
        if (nameOff >= b.length) continue;
        let end = nameOff;
        while (end < b.length && b[end] !== 0) end++;
        const name = dec.decode(b.subarray(nameOff, end));
        // versioned dynamic names (`malloc@@GLIBC_2.2.5`) match their base name
        if (name !== symbol && name.split('@')[0] !== symbol) continue;
        const value = Number(dv.getBigUint64(o + 8, true));
        const home = sh(shndx);
        return value - home.addr + home.offset;
      }
    }
  }
  throw new TsbpfError('ENOENT', `uprobe: no function ${symbol} in ${path}`);
}
