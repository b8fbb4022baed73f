/**
 * The helpers the verifier judges: the helper catalog's entries
 * (src/uapi/helpers.ts) whose argument and return types it models. A call
 * to a catalog helper it does not model is refused with ENOTSUPP naming the
 * helper and what is missing (call-helper.ts), never with "invalid func
 * unknown#N" (a verdict Linux does not give). The verifier uses this view
 * when the caller gives no helper registry; a registry's protos take
 * precedence.
 */
import { HELPERS, helperProto, type HelperInfo } from '../uapi/helpers.js';
import type { HelperProto } from '../uapi/helper-proto.js';
import type { ProgTypeName } from '../object/spec.js';
import { LazyMap } from '../lazy-map.js';

export interface NamedProto {
  name: string;
  proto: HelperProto;
}

/** The modelled helpers' prototypes by id (for the program types without a per-type variant); built on first use, as the catalog is. */
export const HELPER_PROTOS: ReadonlyMap<number, NamedProto> = new LazyMap(
  () => new Map([...HELPERS.values()].filter((h) => !h.unmodelled).map((h): [number, NamedProto] => [h.id, { name: h.name, proto: h.proto }])),
);

/** The prototype the verifier checks a call to modelled helper `id` against in a program of `type`. */
export function modelledHelper(id: number, type?: ProgTypeName, attachType?: string): NamedProto | undefined {
  const h: HelperInfo | undefined = HELPERS.get(id);
  if (!h || h.unmodelled) return undefined;
  return h.variant ? { name: h.name, proto: helperProto(h, type, attachType) } : HELPER_PROTOS.get(id);
}

/**
 * A registry's helper (src/helpers/def.ts declares it with the catalog's
 * prototype) in a program type the kernel gives another proto of the same
 * helper (get_socket_cookie in tracing programs): the type's proto, as the
 * kernel's get_func_proto returns it. A host's own prototype is kept.
 */
export function withVariant(id: number, given: NamedProto, type?: ProgTypeName, attachType?: string): NamedProto {
  const h = HELPERS.get(id);
  if (!h?.variant || given.proto !== h.proto) return given;
  return { name: given.name, proto: helperProto(h, type, attachType) };
}
