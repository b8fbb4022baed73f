/** Helper registries that count the JS calls of some helpers: a JIT call that left WebAssembly shows here. */
import { defaultHelpers } from '../../src/helpers/index.js';
import { HelperRegistry, type HelperDef } from '../../src/vm/helper-abi.js';

/**
 * The default helpers, with the JS forms (fn, fn32) of `ids` counting their
 * calls in `calls.n`. `keepWasm` false also drops their WebAssembly forms
 * (wasm32), so every call that is not inlined counts; true keeps them, so
 * only what the WebAssembly form hands to JS counts.
 */
export function countingHelpers(ids: number[], keepWasm: boolean): { helpers: HelperRegistry; calls: { n: number } } {
  const calls = { n: 0 };
  const defs = [...defaultHelpers()].map((d): HelperDef => {
    if (!ids.includes(d.id)) return d;
    const { wasm32, fn32, fn, ...rest } = d;
    return {
      ...rest,
      ...(keepWasm && wasm32 ? { wasm32 } : {}),
      fn: (env, a, b, c, e, f) => (calls.n++, fn(env, a, b, c, e, f)),
      ...(fn32 ? { fn32: (env, a, b, c, e, f) => (calls.n++, fn32(env, a, b, c, e, f)) } : {}),
    };
  });
  return { helpers: new HelperRegistry(defs), calls };
}
