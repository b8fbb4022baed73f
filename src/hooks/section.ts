/**
 * The hook a program's section names (libbpf's bpf_program__attach, which
 * attaches by SEC()): `tracepoint/<category>/<event>` and `tp/...` name a
 * tracepoint, `raw_tp/file_open` / `lsm/socket_connect` / `.../task_spawn` a
 * policy hook. Attach with `program.attach(sectionHook(program))`; hooks that
 * need an object from the host (a socket, a function, a TAP device) are
 * named by their own functions (`dgramXdp(socket)`, `uprobe(obj, 'method')`).
 */
import { TsbpfError } from '../errors.js';
import type { Program } from '../runtime/runtime.js';
import type { Attachable, Link } from './link.js';
import { tracepointOfSection } from './tracepoint.js';
import { policyHookOfSection } from './lsm.js';

/** The hook the section of `program` (or a section name) names; EINVAL when it names none a section can. */
export function sectionHook(program: Program | string): Attachable<Link> {
  const section = typeof program === 'string' ? program : program.spec.section;
  const hook = tracepointOfSection(section) ?? policyHookOfSection(section);
  if (!hook) {
    const who = typeof program === 'string' ? `section ${section}` : `program ${program.name}: section ${section}`;
    throw new TsbpfError('EINVAL', `${who} names no hook to attach to by section (tracepoint/<category>/<event>, raw_tp/file_open, raw_tp/socket_connect, raw_tp/task_spawn); pass the hook: program.attach(uprobe(obj, 'method')), dgramXdp(socket), ...`);
  }
  return hook;
}
