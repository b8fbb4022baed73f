/**
 * `tsbpf link { show | list } [-j]`: the kernel's links, in bpftool's layout,
 * through the Linux backend when it is in the build (listing.ts). tsbpf's own
 * links (hooks in a Node process) exist only while that process runs.
 */
import { CliUsageError } from '../args.js';
import { isJson } from './map-common.js';
import { kernelListing, linkPlain, noListing } from '../listing.js';

export const usage = `Usage: tsbpf link { show | list } [-j|-p]
  The kernel's links (id, type, program, attach point), when tsbpf's Linux
  backend is in the build. tsbpf's own links (a program attached to a hook of
  a Node process) live only in that process: Link objects of the library.
`;

export async function run(argv: string[]): Promise<number> {
  const [json, args] = isJson(argv);
  if (args.length) throw new CliUsageError(`unexpected '${args[0]}'`);
  const k = await kernelListing();
  if (!k?.links) throw noListing('link');
  const links = await k.links();
  process.stdout.write(json ? JSON.stringify(links) + '\n' : links.map(linkPlain).join(''));
  return 0;
}
