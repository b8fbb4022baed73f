/** A compact way to declare a helper: id, name, prototype and function. */
import type { HelperDef, HelperFn, HelperFn32 } from './types.js';
import type { ArgType, HelperProto, RetType } from './proto.js';

export function helper(
  id: number,
  name: string,
  ret: RetType,
  args: ArgType[],
  fn: HelperFn,
  extra: Omit<HelperProto, 'ret' | 'args'> = {},
  fn32?: HelperFn32,
): HelperDef {
  return fn32 ? { id, name, proto: { ret, args, ...extra }, fn, fn32 } : { id, name, proto: { ret, args, ...extra }, fn };
}
