/**
 * Type ids by name, for lookups in a large BTF (vmlinux: ~126k named types)
 * without decoding every name into a JavaScript string: a chained hash
 * table over the names' UTF-8 bytes, in typed arrays. A lookup hashes the
 * query, then compares the few candidates' decoded names exactly, so hash
 * collisions cost time, never a wrong answer.
 */

/** FNV-1a over bytes[start, end), never 0 (0 marks an anonymous type in a hash array). */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0 || 1;
}

const UNDERSCORE = 0x5f;

/**
 * The end of the essential part of the name at bytes[start, end): before a
 * `___flavor` suffix (the last three underscores neither preceded nor
 * followed by another, as bpf_core_is_flavor_sep; flavor.ts's essentialName
 * on strings), else `end`. Underscores are ASCII, so bytes and characters agree.
 */
export function essentialEnd(bytes: Uint8Array, start: number, end: number): number {
  for (let i = end - 5; i >= start; i--) {
    if (bytes[i] !== UNDERSCORE && bytes[i + 1] === UNDERSCORE && bytes[i + 2] === UNDERSCORE && bytes[i + 3] === UNDERSCORE && bytes[i + 4] !== UNDERSCORE)
      return i + 1;
  }
  return end;
}

/**
 * hashBytes of the name at bytes[start, end) into plain[k], and of its part before a
 * `___flavor` suffix (essentialEnd) into essential[k], in one forward pass: FNV-1a is
 * sequential, so the essential hash is the running hash where the last separator starts.
 * The name indexes of the kernel's BTF (by name, by CO-RE essential name) are both built
 * in a CLI call that relocates CO-RE; one pass over its ~126k names serves both.
 */
export function hashBytesBoth(bytes: Uint8Array, start: number, end: number, plain: Uint32Array, essential: Uint32Array, k: number): void {
  let h = 0x811c9dc5;
  let ess = -1;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    // the separator of essentialEnd: i - 1 not '_', i..i+2 '_', i + 3 inside the name and not '_'
    if (c === UNDERSCORE && i > start && i + 3 < end && bytes[i - 1] !== UNDERSCORE && bytes[i + 1] === UNDERSCORE && bytes[i + 2] === UNDERSCORE && bytes[i + 3] !== UNDERSCORE)
      ess = h;
    h = Math.imul(h ^ c, 0x01000193);
  }
  plain[k] = h >>> 0 || 1;
  essential[k] = ess === -1 ? plain[k]! : ess >>> 0 || 1;
}

const utf8 = new TextEncoder();

/** Hash of a query string, equal to hashBytes of its UTF-8 encoding. */
export function hashString(s: string): number {
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
  if (!ascii) {
    const b = utf8.encode(s);
    return hashBytes(b, 0, b.length);
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

export class NameIndex {
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly mask: number;
  private readonly memo = new Map<string, readonly number[]>();

  /**
   * @param hashes the hash of each id's key (hashBytes / hashString), 0 for
   *               an anonymous type; ids 1..length-1 are indexed
   * @param keyOf id's key as a string (called only for candidates of a lookup)
   */
  constructor(
    hashes: Uint32Array,
    private readonly keyOf: (id: number) => string,
  ) {
    let size = 1024;
    while (size < hashes.length) size *= 2;
    const mask = size - 1;
    const head = new Int32Array(size);
    const next = new Int32Array(hashes.length);
    // descending, so that each chain lists its ids in ascending order
    for (let id = hashes.length - 1; id >= 1; id--) {
      const h = hashes[id]!;
      if (h === 0) continue;
      next[id] = head[h & mask]!;
      head[h & mask] = id;
    }
    this.mask = mask;
    this.head = head;
    this.next = next;
  }

  /** The ids whose key is `key`, in id order. */
  lookup(key: string): readonly number[] {
    const hit = this.memo.get(key);
    if (hit) return hit;
    const out: number[] = [];
    for (let id = this.head[hashString(key) & this.mask]!; id !== 0; id = this.next[id]!) if (this.keyOf(id) === key) out.push(id);
    this.memo.set(key, out);
    return out;
  }
}
