/**
 * Declaring a helper tsbpf implements: its kernel id, its function and, for
 * the hot ones, its 32-bit form (HelperFn32). The name and the prototype the
 * verifier checks are the helper catalog's (src/uapi/helpers.ts), so a
 * helper's prototype is written once.
 */
import { TsbpfError } from '../errors.js';
import { HELPERS } from '../uapi/helpers.js';
import type { HelperDef, HelperFn, HelperFn32 } from '../vm/helper-abi.js';

export function helper(id: number, fn: HelperFn, fn32?: HelperFn32): HelperDef {
  const info = HELPERS.get(id);
  if (!info) throw new TsbpfError('EINVAL', `helper #${id} is not one Linux defines`);
  const def: HelperDef = { id, name: info.name, proto: info.proto, fn };
  return fn32 ? { ...def, fn32 } : def;
}
