/**
 * Declaring a helper tsbpf implements: its kernel id, its function and, for
 * the hot ones, its 32-bit form (HelperFn32). The name and the prototype the
 * verifier checks are the helper catalog's (src/uapi/helpers.ts), so a
 * helper's prototype is written once.
 */
import { TsbpfError } from '../errors.js';
import { HELPER_MAX_ID, helperName } from '../uapi/helper-ids.js';
import { HELPERS } from '../uapi/helpers.js';
import type { HelperDef, HelperFn, HelperFn32 } from '../vm/helper-abi.js';

/**
 * Helper `id` as the registry holds it. Its name comes from the id table
 * (helper-ids.ts) and its prototype from the catalog when first read: the
 * registry is built with every runtime, the catalog only when a program calls
 * a helper (an engine or the verifier reads `proto`; issue 17).
 */
export function helper(id: number, fn: HelperFn, fn32?: HelperFn32, wasm32?: HelperDef['wasm32']): HelperDef {
  const name = id > 0 && id < HELPER_MAX_ID ? helperName(id) : undefined;
  if (!name) throw new TsbpfError('EINVAL', `helper #${id} is not one Linux defines`);
  const def = {
    id,
    name: name.slice('bpf_'.length),
    get proto() {
      const proto = HELPERS.get(id)!.proto;
      // read once: later reads (the interpreter's helper calls) find a plain property
      Object.defineProperty(def, 'proto', { value: proto, enumerable: true });
      return proto;
    },
    fn,
  } as HelperDef;
  if (fn32) def.fn32 = fn32;
  if (wasm32) def.wasm32 = wasm32;
  return def;
}
