/**
 * docs/helpers.md, generated from the helper catalog (src/uapi/helpers.ts):
 * every helper Linux defines, its prototype, the program types that may call
 * it and what tsbpf does with it. test/uapi-helpers.test.ts fails when the
 * page and the catalog differ;
 *
 *   node dist/test/support/helper-docs.js --write
 *
 * rewrites it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../paths.js';
import { HELPERS, helperAvailable, type HelperInfo } from '../../src/uapi/helpers.js';
import { ProgType, type ProgTypeName } from '../../src/object/spec.js';

export const HELPER_DOCS = join(ROOT, 'docs/helpers.md');

/** Attach types that change a program type's helpers (the rest are judged with none). */
const ATTACH_SAMPLES: Partial<Record<ProgTypeName, readonly string[]>> = {
  tracing: ['trace_fentry', 'trace_fexit', 'modify_return', 'trace_raw_tp', 'trace_iter'],
  cgroup_sock_addr: ['cgroup_inet4_connect', 'cgroup_inet4_bind', 'cgroup_udp4_recvmsg', 'cgroup_unix_getpeername'],
  cgroup_skb: ['cgroup_inet_ingress'],
  cgroup_sockopt: ['cgroup_getsockopt', 'cgroup_setsockopt'],
  // struct_ops: the ops struct (a congestion control's helpers are its own; bpf_dummy_ops has none: docs/verifier.md)
  struct_ops: ['tcp_congestion_ops', 'sched_ext_ops'],
};
const TYPES = (Object.keys(ProgType) as ProgTypeName[]).filter((t) => t !== 'unspec');

function progTypes(h: HelperInfo): string {
  const parts: string[] = [];
  for (const t of TYPES) {
    const attaches = ATTACH_SAMPLES[t] ?? [undefined];
    const ok = attaches.filter((a) => helperAvailable(t, h.id, a));
    if (ok.length === attaches.length) parts.push(t);
    else if (ok.length) parts.push(`${t} (${ok.join(', ')})`);
  }
  if (parts.length === TYPES.length) return 'all';
  return parts.length ? parts.join(', ') : 'none (see the catalog)';
}

function prototype(h: HelperInfo): string {
  const p = h.proto;
  const flags = [p.gplOnly && 'GPL', p.changesPktData && 'moves the packet', p.releasesArg !== undefined && `releases arg ${p.releasesArg + 1}`,
    p.mightSleep && 'might sleep', h.allowed && `only ${h.allowed === 'd_path' ? 'in iterators, sleepable LSM hooks and allowlisted functions' : 'on sleepable LSM hooks'}`, h.pktAccess && 'packet memory', h.privileged && 'CAP_BPF/CAP_PERFMON', h.retBoundedBySize && 'R0 ≤ size'].filter(Boolean);
  return `\`${p.ret} ${h.name}(${p.args.join(', ')})\`${flags.length ? ` (${flags.join('; ')})` : ''}`;
}

function status(h: HelperInfo): string {
  if (h.unmodelled) return `refused (ENOTSUPP): ${h.unmodelled}`;
  if (h.optIn) return `runs after ${h.optIn} (\`src/${h.impl}.ts\`)`;
  if (h.impl) return `runs (\`src/${h.impl}.ts\`)`;
  return 'verified; a runtime refuses to load it (ENOTSUPP)';
}

export function renderHelperDocs(): string {
  const rows = [...HELPERS.values()].sort((a, b) => a.id - b.id)
    .map((h) => `| ${h.id} | \`bpf_${h.name}\` | ${prototype(h)} | ${progTypes(h)} | ${status(h)} |`);
  const implemented = [...HELPERS.values()].filter((h) => h.impl).length;
  const judged = [...HELPERS.values()].filter((h) => !h.unmodelled).length;
  return `# Helpers

<!-- Generated from src/uapi/helpers.ts by test/support/helper-docs.ts: do not edit by hand. -->

Every helper Linux 6.18 defines (\`enum bpf_func_id\`, ids 1 to 211), as tsbpf's helper
catalog (\`src/uapi/helpers.ts\`) holds it: the prototype the verifier checks a call against
(the kernel's \`struct bpf_func_proto\`, argument and return types named after
\`enum bpf_arg_type\` / \`enum bpf_return_type\`), the program types whose \`get_func_proto\`
offers it (recorded from the running kernel, \`test/verifier-corpus/helper-availability.json\`),
and what tsbpf does with a call to it:

- **runs**: tsbpf implements it (${implemented} helpers), in the module named;
- **verified**: \`tsbpf prog load\` and \`verify()\` judge the program as Linux does; a
  \`Runtime\` refuses to load it with ENOTSUPP naming the helper (${judged - implemented} helpers);
- **refused**: the verifier does not model what the helper needs (kptrs, kernel objects of
  struct_ops) and refuses the program with ENOTSUPP, never with a verdict
  Linux would not give (${HELPERS.size - judged} helpers).

| id | helper | prototype | program types | tsbpf |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

if (process.argv[1]?.endsWith('helper-docs.js')) {
  if (process.argv.includes('--write')) writeFileSync(HELPER_DOCS, renderHelperDocs());
  else process.stdout.write(readFileSync(HELPER_DOCS, 'utf8') === renderHelperDocs() ? 'docs/helpers.md is up to date\n' : 'docs/helpers.md differs\n');
}
