/**
 * Which struct names the kernel's BTF has, without shipping the kernel's BTF: a Bloom filter of
 * the names of every STRUCT of the recorded kernel's vmlinux (generated beside the context subset
 * by test/fixtures-btf/gen-context.ts into kernel-struct-names-data.ts).
 *
 * btf_parse_kptr (kernel/bpf/btf.c) looks a `struct T __kptr *` field's T up by name in the
 * kernel's BTF (bpf_find_btf_id); where the kernel has no such struct (-ENOENT) T is the
 * program's own, and the field holds bpf_obj_new objects. The shipped subset has a few hundred of
 * the kernel's ~9,500 structs, so a name missing from it proves nothing; a name the filter does
 * not hold is no struct of the recorded kernel's vmlinux. The filter errs one way only: a name
 * it holds may still be no kernel struct (a false positive, about 1 in 300), which leaves the
 * field unsupported, never misjudged. Modules' structs (which Linux also searches) are not in it.
 */
import { hashBytes } from './name-index.js';
import { base64Bytes } from './context.js';
import { KERNEL_STRUCT_NAMES_BLOOM } from './kernel-struct-names-data.js';

/** Hashes a name sets in the filter: 8 at 12 bits a name (a false positive rate near 0.3%). */
const HASHES = 8;

const utf8 = new TextEncoder();

/** The bit positions of `name` in a filter of `bits` bits with `k` hashes (double hashing over FNV-1a). */
function positions(name: string, bits: number, k: number): number[] {
  const b = utf8.encode(name);
  const h1 = hashBytes(b, 0, b.length);
  // a second, independent-enough hash: FNV-1a of the bytes reversed, odd
  const rev = b.slice().reverse();
  const h2 = (hashBytes(rev, 0, rev.length) | 1) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(((h1 + Math.imul(i, h2)) >>> 0) % bits);
  return out;
}

/** A Bloom filter of `names`, about 12 bits a name (the generator's side). */
export function buildNameFilter(names: readonly string[], k = HASHES): Uint8Array {
  const bits = Math.max(64, Math.ceil(names.length * 12 / 8) * 8);
  const f = new Uint8Array(bits / 8);
  for (const n of names) for (const p of positions(n, bits, k)) f[p >> 3]! |= 1 << (p & 7);
  return f;
}

/** Whether filter `f` (k hashes) may hold `name`. */
export function filterHas(f: Uint8Array, name: string, k = HASHES): boolean {
  return positions(name, f.length * 8, k).every((p) => (f[p >> 3]! & (1 << (p & 7))) !== 0);
}

let filter: Uint8Array | undefined;

/** Whether the recorded kernel's vmlinux may have a struct named `name` (false: it has none). */
export function mayBeKernelStruct(name: string): boolean {
  filter ??= base64Bytes(KERNEL_STRUCT_NAMES_BLOOM);
  return filterHas(filter, name);
}
