/**
 * The open-coded iterators' kfuncs at run time (bpf_iter_num_* in kernel/bpf/bpf_iter.c,
 * bpf_iter_bits_* in kernel/bpf/helpers.c), for both engines.
 *
 * A verified program's `call kfunc` of an iterator becomes a call of one of these functions
 * (runtime/loader.ts), under an id no kernel helper has (ITER_KFUNC_ID_BASE and up). They are
 * not in the registry the verifier consults, so a program cannot name them itself: only the
 * loader's rewrite of a kfunc call the verifier judged as an iterator call reaches them
 * (helpers/kfunc-fns.ts). The iterator's state is the program's own stack bytes (struct
 * bpf_iter_<kind>, which the verifier keeps the program from reading or writing), laid out as
 * the kernel lays out its _kern structs:
 *
 * - num: `int cur; int end;` — _new(start, end) sets cur = start - 1 (or cur = end = 0 and
 *   -EINVAL when start > end, -E2BIG when the range exceeds BPF_MAX_LOOPS); _next steps cur and
 *   returns its address until cur + 1 reaches end, then zeroes both and returns NULL for ever.
 * - bits: `u64 bits_copy | bits handle; int nr_bits; int bit;` — _new copies nr_words words
 *   from the pointer (a probe read: -EFAULT when unreadable; -EINVAL for none, -E2BIG past
 *   511 words); one word lives in the state itself, more in a copy the run keeps beside it
 *   (the kernel's bpf_mem_alloc), freed by _destroy; _next returns the address of `bit`, the
 *   next set bit's index.
 */
import type { ExecEnv, HelperDef, HelperFn } from '../vm/helper-abi.js';
import { err } from './env.js';
import { probeReadable } from './reach.js';
import { DYNPTR_KFUNC_IMPLS } from './dynptr.js';

/** kernel/bpf/verifier.c BPF_MAX_LOOPS: the longest range bpf_iter_num_new accepts */
const BPF_MAX_LOOPS = 8 * 1024 * 1024;
/** kernel/bpf/helpers.c BITS_ITER_NR_WORDS_MAX */
const BITS_ITER_NR_WORDS_MAX = 511;

/** The first id of the iterator kfuncs' run-time functions (above every kernel helper id, below the JIT's 2^31 limit). */
export const ITER_KFUNC_ID_BASE = 0x7fff_0000;

const i32 = (v: bigint): number => Number(BigInt.asIntN(32, v));

const numNew: HelperFn = (env, it, start, end) => {
  const s = Number(it), a = i32(start), b = i32(end);
  const sp = env.space;
  if (a > b || b - a > BPF_MAX_LOOPS) {
    sp.writeU32(s, 0);
    sp.writeU32(s + 4, 0);
    return err(a > b ? 'EINVAL' : 'E2BIG');
  }
  sp.writeU32(s, (a - 1) >>> 0);
  sp.writeU32(s + 4, b >>> 0);
  return 0n;
};

const numNext: HelperFn = (env, it) => {
  const s = Number(it), sp = env.space;
  const cur = sp.readU32(s) | 0, end = sp.readU32(s + 4) | 0;
  // (the kernel compares in 64 bits: cur == end == INT_MAX must not wrap)
  if (cur + 1 >= end) {
    sp.writeU32(s, 0);
    sp.writeU32(s + 4, 0);
    return 0n;
  }
  sp.writeU32(s, (cur + 1) >>> 0);
  return it;
};

const numDestroy: HelperFn = (env, it) => {
  env.space.writeU32(Number(it), 0);
  env.space.writeU32(Number(it) + 4, 0);
  return 0n;
};

/** The words of bits iterators wider than one word, by run and iterator address (the kernel's bpf_mem_alloc'd copy). */
const wideBits = new WeakMap<ExecEnv, Map<number, Uint8Array>>();

const bitsNew: HelperFn = (env, it, ptr, nrWords) => {
  const s = Number(it), sp = env.space, words = Number(nrWords & 0xffff_ffffn);
  sp.writeU64(s, 0n);
  sp.writeU32(s + 8, 0);
  sp.writeU32(s + 12, 0xffff_ffff);
  wideBits.get(env)?.delete(s);
  if (ptr === 0n || words === 0) return err('EINVAL');
  if (words > BITS_ITER_NR_WORDS_MAX) return err('E2BIG');
  if (!probeReadable(env, ptr, words * 8)) return err('EFAULT');
  if (words === 1) sp.writeU64(s, sp.readU64(Number(ptr)));
  else {
    let m = wideBits.get(env);
    if (!m) wideBits.set(env, (m = new Map()));
    m.set(s, sp.bytes(Number(ptr), words * 8).slice());
  }
  sp.writeU32(s + 8, words * 64);
  return 0n;
};

const bitsNext: HelperFn = (env, it) => {
  const s = Number(it), sp = env.space;
  const nrBits = sp.readU32(s + 8) | 0;
  let bit = sp.readU32(s + 12) | 0;
  if (!nrBits || bit >= nrBits) return 0n;
  const wide = nrBits > 64 ? wideBits.get(env)?.get(s) : undefined;
  const byteAt = (k: number): number => (wide ? wide[k]! : sp.bytes(s, 8)[k]!);
  // find_next_bit from bit + 1 (little-endian words: bit n is bit n % 8 of byte n / 8)
  for (bit++; bit < nrBits; bit++) if (byteAt(bit >> 3) & (1 << (bit & 7))) break;
  sp.writeU32(s + 12, bit >>> 0);
  return bit >= nrBits ? 0n : it + 12n;
};

const bitsDestroy: HelperFn = (env, it) => {
  wideBits.get(env)?.delete(Number(it));
  return 0n;
};

const FNS: ReadonlyArray<[string, HelperFn, 'INTEGER' | 'VOID' | 'PTR_TO_MEM_OR_NULL']> = [
  ['bpf_iter_num_new', numNew, 'INTEGER'],
  ['bpf_iter_num_next', numNext, 'PTR_TO_MEM_OR_NULL'],
  ['bpf_iter_num_destroy', numDestroy, 'VOID'],
  ['bpf_iter_bits_new', bitsNew, 'INTEGER'],
  ['bpf_iter_bits_next', bitsNext, 'PTR_TO_MEM_OR_NULL'],
  ['bpf_iter_bits_destroy', bitsDestroy, 'VOID'],
];

/** The run-time functions of the iterator kfuncs (and of the dynptr kfuncs, helpers/dynptr.ts), by kfunc name. */
export const ITER_KFUNC_FNS: ReadonlyMap<string, HelperDef> = new Map([...FNS, ...DYNPTR_KFUNC_IMPLS.map(([n, fn]) => [n, fn, 'INTEGER'] as const)].map(([name, fn, ret], k): [string, HelperDef] =>
  [name, { id: ITER_KFUNC_ID_BASE + k, name: name.replace(/^bpf_/, ''), proto: { ret, args: ['ANYTHING', 'ANYTHING', 'ANYTHING'] }, fn }]));
