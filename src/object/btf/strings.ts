/**
 * The BTF string section: NUL-terminated names addressed by byte offset.
 * Offset 0 is the empty string (the kernel requires the section to start with
 * a NUL, so anonymous types use name_off 0).
 */
import { BtfError } from './error.js';
import { hashBytesBoth } from './name-index.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class BtfStrings {
  private readonly cache = new Map<number, string>();
  /**
   * @param bytes the string section
   * @param base strings of the base BTF for split BTF (module BTF on vmlinux):
   *             offsets below base.length address the base
   * @param fileOffset where the section starts in the blob, for error offsets
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly base?: BtfStrings,
    readonly fileOffset = 0,
  ) {}

  /** Total size of the offset space (base strings plus ours). */
  get length(): number {
    return (this.base?.length ?? 0) + this.bytes.length;
  }

  /** Is `off` the start of a string inside the section? */
  valid(off: number): boolean {
    return off >= 0 && off < this.length;
  }

  /** Is the string at `off` (a valid offset) empty? Answered without decoding it. */
  isEmpty(off: number): boolean {
    const baseLen = this.base?.length ?? 0;
    return off < baseLen ? this.base!.isEmpty(off) : this.bytes[off - baseLen] === 0;
  }

  /**
   * NameIndex's hashes of the string at each offset of `offs`, whole into `plain` and its part
   * before a CO-RE flavour suffix into `essential` (0 in both for the empty string), from `at`.
   * One tight loop: it runs over every name of the kernel's BTF.
   */
  hashAll(offs: ArrayLike<number>, plain: Uint32Array, essential: Uint32Array, at: number): void {
    const baseLen = this.base?.length ?? 0;
    const b = this.bytes;
    for (let i = 0; i < offs.length; i++) {
      const off = offs[i]!;
      if (off < baseLen) {
        this.base!.hashAll([off], plain, essential, at + i);
        continue;
      }
      const start = off - baseLen;
      if (b[start] === 0) continue;
      let end = start;
      while (b[end] !== 0) end++;
      hashBytesBoth(b, start, end, plain, essential, at + i);
    }
  }

  /** The string at `off`; a BtfError if `off` is outside the section. */
  at(off: number): string {
    const baseLen = this.base?.length ?? 0;
    if (off < baseLen) return this.base!.at(off);
    const hit = this.cache.get(off);
    if (hit !== undefined) return hit;
    const rel = off - baseLen;
    const b = this.bytes;
    if (rel < 0 || rel >= b.length) throw new BtfError(this.fileOffset, `string offset ${off} outside the string section (${this.length} bytes)`);
    let end = rel;
    let ascii = true;
    while (end < b.length && b[end] !== 0) {
      if (b[end]! >= 0x80) ascii = false;
      end++;
    }
    if (end >= b.length) throw new BtfError(this.fileOffset + rel, `string at offset ${off} is not NUL-terminated`);
    let s: string;
    if (ascii && end - rel < 4096) s = String.fromCharCode(...b.subarray(rel, end));
    else s = utf8.decode(b.subarray(rel, end));
    this.cache.set(off, s);
    return s;
  }
}

/** Builds a string section, deduplicating equal strings (for `Btf.encode`). */
export class StringTableBuilder {
  private readonly offsets = new Map<string, number>([['', 0]]);
  private readonly chunks: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;
  private readonly enc = new TextEncoder();

  add(s: string): number {
    const hit = this.offsets.get(s);
    if (hit !== undefined) return hit;
    const b = this.enc.encode(s);
    const off = this.size;
    const chunk = new Uint8Array(b.length + 1);
    chunk.set(b);
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.offsets.set(s, off);
    return off;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
}
