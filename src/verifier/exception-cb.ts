/**
 * Exception callbacks (Linux 6.7+): a main program tagged
 * `__attribute__((btf_decl_tag("exception_callback:NAME")))` (libbpf's
 * `__exception_cb(NAME)`) names the function that runs when bpf_throw()
 * unwinds the program (throw.ts). The kernel finds the tag in the program's
 * BTF and the function's code through func_info
 * (bpf_find_exception_callback_insn_off, in add_subprog_and_kfunc_calls:
 * before any instruction is walked), and refuses a tag it cannot follow.
 * The callback it finds is then verified by rules of its own
 * (exception-entry.ts).
 *
 * (libbpf 1.3+ appends the named function to the program's code,
 * bpf_prog_assign_exc_cb; older libbpf, and tsbpf's object loader, append
 * only the functions the program calls, so a callback nobody calls has no
 * func_info: the kernel's "exception callback type id not found".)
 */
import type { Btf } from '../object/btf/btf.js';
import type { Errno } from '../errors.js';

const TAG = 'exception_callback:';

/**
 * The exception-callback tags of an object's BTF, by the type id of the function tagged (in BTF
 * order): one scan of its types per BTF, not one per program verified (a scan builds every type).
 */
const tagsOf = new WeakMap<Btf, ReadonlyMap<number, readonly string[]>>();

function exceptionCallbackTags(b: Btf): ReadonlyMap<number, readonly string[]> {
  let m = tagsOf.get(b);
  if (!m) {
    const found = new Map<number, string[]>();
    for (const t of b.types) {
      if (t.kind !== 'decl_tag' || t.componentIdx !== -1 || !t.name.startsWith(TAG)) continue;
      const list = found.get(t.typeId) ?? [];
      list.push(t.name.slice(TAG.length));
      found.set(t.typeId, list);
    }
    tagsOf.set(b, (m = found));
  }
  return m;
}

function asBtf(btf: unknown): Btf | undefined {
  const b = btf as Btf | undefined;
  return b && Array.isArray((b as { types?: unknown }).types) ? b : undefined;
}

export type ExceptionCallback =
  | { kind: 'none' }
  | { kind: 'found'; name: string; insnOff: number }
  | { kind: 'error'; errno: Errno; message: string };

/**
 * bpf_find_exception_callback_insn_off: the main function (func_info[0]) names at most one
 * callback; it must be a global FUNC of the program's BTF that func_info places at an
 * instruction other than 0.
 */
export function findExceptionCallback(btf: unknown, funcInfo: ReadonlyArray<{ insnOff: number; typeId: number }> | undefined): ExceptionCallback {
  const b = asBtf(btf);
  // (no func_info: no BTF to look in)
  if (!b || !funcInfo?.length) return { kind: 'none' };
  const names = exceptionCallbackTags(b).get(funcInfo[0]!.typeId);
  if (!names) return { kind: 'none' };
  // btf_find_decl_tag_value: a second tag on the same function is -EEXIST
  if (names.length > 1) return { kind: 'error', errno: 'EEXIST', message: 'multiple exception callback tags for main subprog' };
  const name = names[0]!;
  const f = b.typeByName(name, 'func');
  if (!f || f.kind !== 'func') return { kind: 'error', errno: 'ENOENT', message: `exception callback '${name}' could not be found in BTF` };
  if (f.linkage !== 'global') return { kind: 'error', errno: 'EINVAL', message: `exception callback '${name}' must have global linkage` };
  let insnOff = 0;
  let zero = false;
  for (const fi of funcInfo) {
    if (fi.typeId !== f.id) continue;
    insnOff = fi.insnOff;
    if (!insnOff) zero = true;
  }
  if (zero && !insnOff) return { kind: 'error', errno: 'EINVAL', message: 'invalid exception callback insn_off in func_info: 0' };
  if (!insnOff) return { kind: 'error', errno: 'EINVAL', message: 'exception callback type id not found in func_info' };
  return { kind: 'found', name, insnOff };
}
