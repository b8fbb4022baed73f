/**
 * Map helpers (kernel/bpf/helpers.c): bpf_map_lookup_elem, update, delete,
 * and the queue/stack trio push, pop, peek. The map's own operations carry
 * the semantics (flags, errors); these translate the calling convention.
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { TsbpfError } from '../errors.js';
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { hashProbe, type ProbeOp } from './hash-probe.js';
import { lpmProbe } from './lpm-probe.js';
import { err, ret, runOf, type HelperMap } from './env.js';

/** The map a program's map pointer designates. A verified program cannot hold anything else. */
export function mapArg(env: ExecEnv, r: bigint): HelperMap {
  const m = runOf(env).host.mapAt(Number(r & 0xffffffffn));
  if (!m || r > 0xffffffffn) throw new TsbpfError('EFAULT', `0x${r.toString(16)} is not a map pointer`);
  return m;
}

/**
 * bpf_map_lookup_elem with both arguments already known to fit in 32 bits
 * (a map pointer and a key address always do): the helper's HelperFn32, the
 * same operation without BigInt conversions. Returns the value's address, or 0.
 */
function mapLookupElem32(env: ExecEnv, mapAddr: number, keyAddr: number): number {
  return mapArg32(env, mapAddr).lookup(keyAddr, env.cpu) >>> 0;
}

/** The map at a 32-bit map pointer (mapArg without BigInt). */
function mapArg32(env: ExecEnv, mapAddr: number): HelperMap {
  const m = runOf(env).host.mapAt(mapAddr);
  if (!m) throw new TsbpfError('EFAULT', `0x${mapAddr.toString(16)} is not a map pointer`);
  return m;
}

/** bpf_map_lookup_elem on the i64 helper ABI. */
const mapLookupElemFn = (env: ExecEnv, r1: bigint, r2: bigint): bigint => BigInt(mapArg(env, r1).lookup(Number(r2), env.cpu) >>> 0);

/**
 * The helper, with its hash-map operation in WebAssembly for the JIT
 * (helpers/hash-probe.ts) and, in unshared memories (tries are not
 * shareable), its LPM trie lookup and update (helpers/lpm-probe.ts); what
 * neither takes goes to the JS operation. A lookup tries the trie first:
 * the JIT inlines the hash lookups of the maps it knows at the call
 * (inline-hash.ts), so the probe mostly sees tries, which then pay no hop
 * through the hash probe (a call and its prologue, about 3% of a lookup).
 * An update tries the hash table first (no hash update is inlined).
 */
const inWasm = (def: HelperDef, op: ProbeOp): HelperDef =>
  // (assigned, not spread: a spread would read the prototype, and so build the catalog, at import)
  Object.assign(def, {
    wasm32: ((memory, shared, fallback) =>
      shared || op === 'delete' ? hashProbe(op, memory, shared, fallback)
      : op === 'lookup' ? lpmProbe(op, memory, hashProbe(op, memory, shared, fallback))
      : hashProbe(op, memory, shared, lpmProbe(op, memory, fallback))) satisfies HelperDef['wasm32'],
  });

export const mapHelpers: HelperDef[] = [
  inWasm(helper(BPF_FUNC.map_lookup_elem, mapLookupElemFn, mapLookupElem32), 'lookup'),
  inWasm(
    helper(
      BPF_FUNC.map_update_elem,
      (env, r1, r2, r3, r4) => ret(mapArg(env, r1).update(Number(r2), Number(r3), r4, env.cpu)),
      (env, map, key, value, flags) => mapArg32(env, map).update(key, value, BigInt(flags), env.cpu),
    ),
    'update',
  ),
  inWasm(
    helper(
      BPF_FUNC.map_delete_elem,
      (env, r1, r2) => ret(mapArg(env, r1).delete(Number(r2), env.cpu)),
      (env, map, key) => mapArg32(env, map).delete(key, env.cpu),
    ),
    'delete',
  ),
  // Queue, stack and bloom filter: other map types do not implement these ops (the verifier refuses them).
  helper(BPF_FUNC.map_push_elem, (env, r1, r2, r3) => {
    const m = mapArg(env, r1);
    return m.push ? ret(m.push(Number(r2), r3)) : err('ENOTSUPP');
  }),
  helper(BPF_FUNC.map_pop_elem, (env, r1, r2) => {
    const m = mapArg(env, r1);
    return m.pop ? ret(m.pop(Number(r2))) : err('ENOTSUPP');
  }),
  helper(BPF_FUNC.map_peek_elem, (env, r1, r2) => {
    const m = mapArg(env, r1);
    return m.peek ? ret(m.peek(Number(r2))) : err('ENOTSUPP');
  }),
];
