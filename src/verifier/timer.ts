/**
 * bpf_timer: a `struct bpf_timer` field of a map value (its BTF says where:
 * mapValueFields), driven by bpf_timer_init / _set_callback / _start /
 * _cancel, as Linux's verifier judges it:
 *
 * - ARG_PTR_TO_TIMER (process_timer_func): a map value pointer (not NULL)
 *   at a constant offset that is the timer's, of a map with BTF whose value
 *   has one ("map 'x' has no valid bpf_timer", "off N doesn't point to
 *   'struct bpf_timer' that is at M");
 * - bpf_timer_init's map argument must be the timer's own map (the kernel
 *   compares map_ptr and map_uid; tsbpf does not track which inner map of a
 *   map-in-map a pointer came from, so a timer in an inner map is refused
 *   as unsupported rather than judged);
 * - bpf_timer_set_callback's callback is an async callback
 *   (push_callback_call's is_async_callback_calling_insn case, push_async_cb
 *   and set_timer_callback_state): a state of its own, explored after the
 *   caller's path, with one frame (the callback as frame 0), R1 the map, R2
 *   a key and R3 a value of it, R10 a fresh stack; the caller goes on as
 *   after any helper call. At its exit (check_return_code's
 *   in_async_callback_fn case) R0 must be 0, and nothing may be held;
 * - the stack of an async callback is a call chain of its own
 *   (check_max_stack_depth: stack-depth.ts takes it as another root), unless
 *   the program also calls the function directly;
 * - tracing programs (kprobe, tracepoint, perf_event, raw_tracepoint) may
 *   not use a map holding a timer at all (check_map_prog_compatibility,
 *   spin-lock.ts).
 */
import { Reg } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { VerifierState, Frame } from './state.js';
import type { CallArgMeta, HelperArg } from './helper-args.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';

/** ARG_PTR_TO_TIMER: check_reg_type (a map value, not NULL), then process_timer_func. */
export function timerArg(env: Verifier, meta: CallArgMeta, a: HelperArg, badArg: (expected: string) => never): void {
  const { r, reg } = a;
  const i = meta.insn;
  if (reg.type !== 'map_value' || reg.maybeNull) badArg('map_value');
  const fail = (message: string, rule: string, hint?: string): never => {
    throw new Reject({ errno: 'EINVAL', message, insn: i, regs: [r], rule, ...(hint ? { hint } : {}) });
  };
  if (!reg.s.isConst())
    fail(`R${r} doesn't have constant offset. bpf_timer has to be at the constant offset`, 'the timer pointer must be at a constant offset');
  // map_uid: which of a map-in-map's inner maps the value came from, which tsbpf's registers do not carry
  if (env.innerOf.includes(reg.map)) throw new Reject({
    errno: 'ENOTSUPP',
    message: `a bpf_timer in an inner map (map-in-map) is not supported by tsbpf`,
    insn: i,
    regs: [r],
    rule: 'timers in inner maps are not supported by tsbpf',
  });
  const m = env.maps[reg.map]!;
  if (!m.btf) fail(`map '${m.name ?? ''}' has to have BTF in order to use bpf_timer`, 'a timer lives in a map value typed by BTF', 'declare the map with BTF (the __type/__uint macros of a SEC(".maps") definition)');
  const at = m.fields?.timer;
  if (at === undefined) fail(`map '${m.name ?? ''}' has no valid bpf_timer`, 'the map value has no struct bpf_timer');
  const off = Number(reg.s.varOff.value) + reg.off;
  if (off !== at) fail(`off ${off} doesn't point to 'struct bpf_timer' that is at ${at}`, "the pointer must be the timer field's address", `pass &value->timer (offset ${at})`);
  meta.mapIdx = reg.map;
  meta.timerMap = reg.map;
}

/** check_func_arg's ARG_CONST_MAP_PTR after a timer (bpf_timer_init): the map must be the timer's. */
export function checkTimerMap(env: Verifier, meta: CallArgMeta, r: number, map: number): void {
  if (meta.timerMap === undefined || meta.timerMap === map) return;
  throw new Reject({
    errno: 'EINVAL',
    message: `timer pointer in R1 map_uid=0 doesn't match map pointer in R${r} map_uid=0`,
    insn: meta.insn,
    regs: [1, r],
    hint: 'pass the map whose value holds the timer',
    rule: 'bpf_timer_init takes the map the timer lives in',
  });
}

/**
 * push_async_cb with set_timer_callback_state: the callback is verified as a program of its
 * own, from a fresh state queued after the current path (a root: no checkpoint of the caller's
 * waits for it). Frame 0 runs the callback; its callbackIter counts nested async entries (the
 * kernel's async_entry_cnt), so that the same state met again through a callback re-armed
 * from inside itself is not taken for an infinite loop.
 *
 * The entry state depends only on the callback and the map (the registers above, an empty
 * stack), so each pair is explored once: a second entry would be the same exploration, which
 * Linux ends by pruning inside the callback (a callback that re-arms itself pushes one
 * entry per exploration, and only pruning stops the chain).
 */
export function pushAsyncCallback(env: Verifier, meta: CallArgMeta): void {
  const i = meta.insn;
  const map = meta.mapIdx;
  if (env.asyncCallbacks.get(meta.funcTarget)?.has(map)) return;
  const maps = env.asyncCallbacks.get(meta.funcTarget) ?? new Set<number>();
  maps.add(map);
  env.asyncCallbacks.set(meta.funcTarget, maps);
  const caller = env.cur.frames[0]!;
  const f = new Frame(0, -1, meta.funcTarget);
  f.regs[1] = Reg.ptr('map_ptr', { map });
  f.regs[2] = Reg.ptr('map_key', { map });
  f.regs[3] = Reg.ptr('map_value', { map });
  f.regs[10] = Reg.ptr('fp', { frameno: 0 });
  f.callbackOf = meta.id;
  f.callbackIter = (caller.callbackOf === BPF_FUNC.timer_set_callback ? caller.callbackIter : 0) + 1;
  const st = new VerifierState();
  st.frames.push(f);
  st.path = { insn: i, to: meta.funcTarget, taken: true, prev: null };
  if (env.work.length >= 8192) throw new Reject({
    errno: 'E2BIG',
    message: `The sequence of ${env.work.length + 1} jumps is too complex for async cb.`,
    insn: i,
  });
  env.work.push({ st, insn: meta.funcTarget, from: i, cp: null });
  env.curStates++;
  if (env.curStates > env.peakStates) env.peakStates = env.curStates;
}

/** An async callback's frame (frame 0 of its own state): its exit is checked as check_return_code's in_async_callback_fn. */
export function isAsyncCallbackFrame(f: Frame): boolean {
  return f.frameno === 0 && f.callbackOf === BPF_FUNC.timer_set_callback;
}

/** check_return_code for async callbacks: "enforce return zero from async callbacks like timer". */
export const ASYNC_CALLBACK_RET: readonly [number, number] = [0, 0];
