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

export interface NamedProto {
  name: string;
  proto: HelperProto;
}

/** The modelled helpers' prototypes by id (for the program types without a per-type variant). */
export const HELPER_PROTOS: ReadonlyMap<number, NamedProto> = new Map(
  [...HELPERS.values()].filter((h) => !h.unmodelled).map((h): [number, NamedProto] => [h.id, { name: h.name, proto: h.proto }]),
);

/** The prototype the verifier checks a call to modelled helper `id` against in a program of `type`. */
export function modelledHelper(id: number, type?: ProgTypeName, attachType?: string): NamedProto | undefined {
  const h: HelperInfo | undefined = HELPERS.get(id);
  if (!h || h.unmodelled) return undefined;
  return h.variant ? { name: h.name, proto: helperProto(h, type, attachType) } : HELPER_PROTOS.get(id);
}
