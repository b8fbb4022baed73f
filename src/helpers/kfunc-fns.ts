/**
 * The kfuncs tsbpf runs, as the engines see them: a verified program's call
 * of one of these kfuncs becomes a call of its run-time function
 * (runtime/loader.ts) under an id no kernel helper has. They are not in the
 * registry the verifier consults, so a program cannot name them itself.
 */
import type { HelperDef, HelperRegistry } from '../vm/helper-abi.js';
import { HelperRegistry as Registry } from '../vm/helper-abi.js';
import { ITER_KFUNC_FNS } from './iter-kfuncs.js';
import { OBJECT_KFUNC_FNS } from './object-kfuncs.js';

/** The run-time function of each kfunc tsbpf runs (the iterators', the kernel objects'), by kfunc name. */
export const KFUNC_FNS: ReadonlyMap<string, HelperDef> = new Map([...ITER_KFUNC_FNS, ...OBJECT_KFUNC_FNS]);

/** The runtime's registry seen through, with the kfuncs' functions added on top. */
class ExecRegistry extends Registry {
  constructor(private readonly base: HelperRegistry) {
    super(KFUNC_FNS.values());
  }

  override get(id: number): HelperDef | undefined {
    return super.get(id) ?? this.base.get(id);
  }

  override has(id: number): boolean {
    return super.has(id) || this.base.has(id);
  }

  override byNameOf(name: string): HelperDef | undefined {
    return super.byNameOf(name) ?? this.base.byNameOf(name);
  }

  override *[Symbol.iterator](): IterableIterator<HelperDef> {
    yield* this.base;
    yield* super[Symbol.iterator]();
  }
}

const withKfuncs = new WeakMap<HelperRegistry, HelperRegistry>();

/**
 * The registry the engines run a program with: the runtime's helpers (looked up live, so that
 * helpers registered later count) plus the kfuncs' functions, which only the loader's rewrite
 * of a verified kfunc call names.
 */
export function execHelpers(helpers: HelperRegistry): HelperRegistry {
  let r = withKfuncs.get(helpers);
  if (!r) withKfuncs.set(helpers, (r = new ExecRegistry(helpers)));
  return r;
}
