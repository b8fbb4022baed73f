/**
 * The program-side operations of a map type: the part of the kernel's
 * `struct bpf_map_ops` that helpers reach (map_lookup_elem, map_update_elem,
 * map_delete_elem, map_push_elem, map_pop_elem, map_peek_elem).
 *
 * A map class implements the operations its type has, as the kernel's ops
 * table of that type fills the pointers it has; the runtime and the helpers
 * never call a map method directly but ask `opsOf(map)` (BpfMap.ops), which
 * fills each operation the type lacks from UNSUPPORTED below, the one place
 * that says what a missing operation returns. Arguments are addresses in the
 * runtime's AddressSpace, results are what the helper returns to the program
 * (an address or 0; 0 or a negative errno); none of them throws for a
 * condition a program can cause.
 *
 * The verifier refuses a helper call on a map type without the operation
 * (check_map_func_compatibility), so UNSUPPORTED is the runtime's backstop
 * for raw programs and host adapters, not a path verified code takes.
 */
import { ERRNO_VALUES } from '../errors.js';

export interface MapOps {
  /** bpf_map_lookup_elem: the value's address for `cpu`, or 0 */
  lookupElem?(keyAddr: number, cpu?: number): number;
  /** bpf_map_update_elem: 0 or a negative errno */
  updateElem?(keyAddr: number, valueAddr: number, flags: number, cpu?: number): number;
  /** bpf_map_delete_elem: 0 or a negative errno */
  deleteElem?(keyAddr: number, cpu?: number): number;
  /** bpf_map_push_elem (queue, stack, bloom filter) */
  pushElem?(valueAddr: number, flags: number, cpu?: number): number;
  /** bpf_map_pop_elem: copies the value to `valueAddr` */
  popElem?(valueAddr: number, cpu?: number): number;
  /** bpf_map_peek_elem (bloom filters: 0 when maybe present, -ENOENT when surely absent) */
  peekElem?(valueAddr: number, cpu?: number): number;
}

/** A map type's complete ops table: every operation present, the missing ones answering as UNSUPPORTED says. */
export type MapOpsTable = { readonly [K in keyof MapOps]-?: NonNullable<MapOps[K]> };

/**
 * What an operation the map type does not have returns: a NULL lookup (the
 * helper's "not found"), EINVAL for update and delete (as the kernel's
 * bpf_map_update_elem of a type whose update refuses), ENOTSUPP for the
 * queue operations (bpf_map_push_elem & co. on a type without them).
 */
export const UNSUPPORTED: MapOpsTable = {
  lookupElem: () => 0,
  updateElem: () => -ERRNO_VALUES.EINVAL,
  deleteElem: () => -ERRNO_VALUES.EINVAL,
  pushElem: () => -ERRNO_VALUES.ENOTSUPP,
  popElem: () => -ERRNO_VALUES.ENOTSUPP,
  peekElem: () => -ERRNO_VALUES.ENOTSUPP,
};

const OPS = Object.keys(UNSUPPORTED) as Array<keyof MapOps>;

/** The ops table of `map`: its own operations bound to it, UNSUPPORTED's for the rest. */
export function opsOf(map: MapOps): MapOpsTable {
  const table: Record<string, unknown> = {};
  for (const op of OPS) {
    const f = map[op] as ((...a: number[]) => number) | undefined;
    table[op] = f ? f.bind(map) : UNSUPPORTED[op];
  }
  return table as MapOpsTable;
}
