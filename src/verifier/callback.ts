/**
 * TODO header: callback.ts
 */
import { Reg } from './types.js';
import { Scalar } from './scalar.js';
import type { Verifier } from './check.js';
import { VerifierState, STACK_MISC, STACK_SPILL, STACK_ZERO } from './state.js';

/**
 * Before another callback iteration, forget what the previous iteration
 * wrote into the callers' stacks: values that changed become unknown, so
 * that the iterations converge (the kernel gets the same effect from its
 * precision tracking, which lets imprecise scalars differ).
 */
export function widenCallerStacks(env: Verifier, st: VerifierState): void {
  const entry = st.cur.callbackEntry;
  for (let k = 0; k < st.frames.length - 1; k++) {
    const f = st.frames[k]!;
    const before = entry?.[k] ?? [];
    f.stack.forEach((s, spi) => {
      if (!s) return;
      const b = before[spi];
      if (s.spilled && s.spilled.type === 'scalar') {
        const same = b?.spilled && b.spilled.type === 'scalar' && b.spilled.s.equals(s.spilled.s) && b.t.every((t, j) => t === s.t[j]);
        if (!same && !s.spilled.s.isUnknown()) {
          let n = 0;
          for (let j = 0; j < 8; j++) if (s.t[j] === STACK_SPILL) n++;
          s.spilled = Reg.scalar(n < 8 ? Scalar.urange(0n, (1n << BigInt(n * 8)) - 1n) : Scalar.unknown());
        }
      }
      for (let j = 0; j < 8; j++) if (s.t[j] === STACK_ZERO && b?.t[j] !== STACK_ZERO) s.t[j] = STACK_MISC;
    });
  }
}
