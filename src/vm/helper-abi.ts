/**
 * The calling convention between execution engines and helpers.
 *
 * A helper receives its five arguments as unsigned 64-bit bigints (r1..r5) and
 * returns r0 the same way: the natural form for a WebAssembly import taking
 * i64, so the interpreter and the JIT call the very same function. Pointers
 * arrive as addresses in the runtime's {@link AddressSpace}.
 *
 * The vm defines this interface and src/helpers implements it, so the engines
 * never import a helper (docs/architecture.md, "Dependencies and the core").
 */
import type { AddressSpace } from '../memory/address-space.js';
import type { HelperProto } from '../uapi/helper-proto.js';

/** What an engine offers a helper for the duration of one program run. */
export interface ExecEnv {
  readonly space: AddressSpace;
  /** The CPU (worker slot) this run executes on: selects the per-CPU map slot. */
  readonly cpu: number;
  /**
   * Call a bpf function of the running program (a callback for bpf_loop,
   * bpf_for_each_map_elem, ...) by its instruction index, with up to 5
   * arguments; returns its r0.
   */
  callFunc(insnIndex: number, args: readonly bigint[]): bigint;
  /** Program-type and runtime state (packet bounds, maps by address, ...), set by the runtime. */
  readonly run: unknown;
  /**
   * The probe domain of the program running now (ProgramImage.owner: its
   * collection's memory), for the probe-read helpers' confined mode
   * (reach.ts). A tail call into another collection's program changes it.
   */
  readonly owner?: object;
}

export type HelperFn = (env: ExecEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint) => bigint;

/**
 * The same helper on 32-bit arguments, without the BigInt conversions of the
 * i64 ABI (which cost more than a map lookup or a ring buffer record): the
 * engines call it instead of `fn` when every argument the prototype declares
 * fits in 32 bits (always, for a verified program's pointers and sizes),
 * passing them as unsigned numbers. It returns an i32 that the engine
 * extends to r0: sign-extended for an INTEGER return (a negative errno),
 * zero-extended for a pointer; 0 for VOID.
 */
export type HelperFn32 = (env: ExecEnv, r1: number, r2: number, r3: number, r4: number, r5: number) => number;

export interface HelperDef {
  /** the kernel's helper id (enum bpf_func_id) */
  id: number;
  /** the kernel's name without the bpf_ prefix, e.g. "map_lookup_elem" */
  name: string;
  proto: HelperProto;
  fn: HelperFn;
  /** the 32-bit fast path of `fn` (HelperFn32), where the helper has one */
  fn32?: HelperFn32;
  /**
   * A WebAssembly form of the 32-bit import for programs over `memory`
   * (the JIT links it for verified programs): it does what it can without
   * leaving WebAssembly and calls `fallback` (the JS import) for the rest.
   * `env` is the running program's ExecEnv (for the little it does in JS).
   */
  wasm32?: (memory: WebAssembly.Memory, shared: boolean, fallback: HelperImport32, env: () => ExecEnv) => HelperImport32;
}

/** The JIT's h.<id>_32 import: (pc, r1..rN as i32) -> i32. */
export type HelperImport32 = (pc: number, ...args: number[]) => number;

/** Does a helper's 32-bit result extend to r0 with its sign (an INTEGER return)? */
export const fn32Signed = (def: HelperDef): boolean => def.proto.ret === 'INTEGER';

/** Helpers by id, as an engine looks them up at a `call imm`. */
export class HelperRegistry {
  private readonly byId = new Map<number, HelperDef>();
  private readonly byName = new Map<string, HelperDef>();

  constructor(defs: Iterable<HelperDef> = []) {
    for (const d of defs) this.register(d);
  }

  register(def: HelperDef): this {
    this.byId.set(def.id, def);
    this.byName.set(def.name, def);
    return this;
  }

  get(id: number): HelperDef | undefined {
    return this.byId.get(id);
  }

  byNameOf(name: string): HelperDef | undefined {
    return this.byName.get(name.replace(/^bpf_/, ''));
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  [Symbol.iterator](): IterableIterator<HelperDef> {
    return this.byId.values();
  }
}
