/**
 * Declaring a helper tsbpf implements: its kernel id and its function. The
 * name and the prototype the verifier checks are the helper catalog's
 * (src/uapi/helpers.ts), so a helper's prototype is written once.
 */
import { TsbpfError } from '../errors.js';
import { HELPERS } from '../uapi/helpers.js';
import type { HelperDef, HelperFn } from './types.js';

export function helper(id: number, fn: HelperFn): HelperDef {
  const info = HELPERS.get(id);
  if (!info) throw new TsbpfError('EINVAL', `helper #${id} is not one Linux defines`);
  return { id, name: info.name, proto: info.proto, fn };
}
