/**
 * `tsbpf prog|map|link|btf show [id N | pinned PATH] [-j|-p]` over the
 * running kernel's objects (../kernel-listing.ts), with bpftool's fields,
 * JSON and plain layouts. A listing is a JSON array; one object named by id
 * or pin is a JSON object, as in bpftool. Needs root (or CAP_BPF).
 */
import { CliUsageError, JSON_OPTS, parse } from '../args.js';
import { TsbpfError } from '../../errors.js';
import { btfPlain, linkPlain, mapPlain, progPlain } from '../listing.js';

export type Kind = 'prog' | 'map' | 'link' | 'btf';

export const usage = (kind: Kind): string => `Usage: tsbpf ${kind} show [id N | pinned PATH] [-j|-p]
  the ${{ prog: 'programs', map: 'maps', link: 'links', btf: 'BTF objects' }[kind]} of the running kernel, as bpftool lists them (needs root or CAP_BPF)
`;

export async function showKernel(kind: Kind, args: string[]): Promise<number> {
  const { positionals, values } = parse(args, JSON_OPTS);
  const json = Boolean(values.json || values.pretty);
  const listing = await (await import('../kernel-listing.js')).kernelListing();
  let out: unknown;
  if (positionals.length) {
    const [how, what, ...extra] = positionals;
    if (extra.length) throw new CliUsageError(`unexpected '${extra[0]}'`);
    if (how === 'id' && what !== undefined && /^\d+$/.test(what)) out = listing.one(kind, { id: Number(what) });
    else if (how === 'pinned' && what !== undefined) {
      if (kind === 'btf') throw new CliUsageError('BTF objects are shown by id');
      out = listing.one(kind, { pinned: what });
    } else throw new CliUsageError(`expected 'id N' or 'pinned PATH', got '${positionals.join(' ')}'`);
  } else out = kind === 'prog' ? await listing.programs() : kind === 'map' ? await listing.maps() : kind === 'link' ? await listing.links() : await listing.btfs();
  if (json) {
    process.stdout.write(JSON.stringify(out, null, values.pretty ? 4 : undefined) + '\n');
    return 0;
  }
  const plain = { prog: progPlain, map: mapPlain, link: linkPlain, btf: btfPlain }[kind] as (x: unknown) => string;
  process.stdout.write((Array.isArray(out) ? out : [out]).map(plain).join(''));
  return 0;
}

/** `tsbpf kernel-show KIND ...` when called as a module of its own. */
export async function run(args: string[]): Promise<number> {
  const [kind, ...rest] = args.filter((a) => a !== 'show');
  if (kind !== 'prog' && kind !== 'map' && kind !== 'link' && kind !== 'btf') throw new TsbpfError('EINVAL', `kernel show: unknown object '${kind}'`);
  return showKernel(kind, rest);
}

/** BPF_FS_MAGIC: a path on a bpf filesystem is a kernel pin, not a tsbpf pin file. */
const BPF_FS_MAGIC = 0xcafe4a11;

/** Does `... pinned PATH ...` name a pin in a bpffs? */
export async function isBpffs(args: string[]): Promise<boolean> {
  const i = args.indexOf('pinned');
  const path = i >= 0 ? args[i + 1] : undefined;
  if (path === undefined) return false;
  const { statfsSync } = await import('node:fs');
  try {
    return statfsSync(path).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}
