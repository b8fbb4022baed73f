/**
 * Exception callbacks (Linux 6.7+): a main program tagged
 * `__attribute__((btf_decl_tag("exception_callback:NAME")))` (libbpf's
 * `__exception_cb(NAME)`) names the function that runs when bpf_throw()
 * unwinds the program. The kernel finds the tag in the program's BTF
 * (find_exception_callback_insn_off) and verifies that function under its
 * own rules. tsbpf has no bpf_throw and no unwinding, so a program that
 * declares one is refused as unsupported rather than judged by rules it
 * does not model.
 */
import type { Btf } from '../object/btf/btf.js';

/**
 * The exception callbacks an object's BTF declares, by the type id of the function tagged: one
 * scan of its types per BTF, not one per program verified (a scan builds every type).
 */
const tagsOf = new WeakMap<Btf, ReadonlyMap<number, string>>();

function exceptionCallbackTags(b: Btf): ReadonlyMap<number, string> {
  let m = tagsOf.get(b);
  if (!m) {
    const found = new Map<number, string>();
    for (const t of b.types) {
      if (t.kind === 'decl_tag' && t.componentIdx === -1 && t.name.startsWith('exception_callback:') && !found.has(t.typeId))
        found.set(t.typeId, t.name.slice('exception_callback:'.length));
    }
    tagsOf.set(b, (m = found));
  }
  return m;
}

/** The exception callback the main function's BTF names, if any. */
export function exceptionCallbackName(btf: unknown, mainTypeId: number | undefined): string | undefined {
  const b = btf as Btf | undefined;
  if (mainTypeId === undefined || !b || !Array.isArray((b as { types?: unknown }).types)) return undefined;
  return exceptionCallbackTags(b).get(mainTypeId);
}
