/**
 * The program contexts' layouts (src/uapi/ctx.ts) are the running kernel's:
 * every field offset and struct size is compared with the struct in
 * /sys/kernel/btf/vmlinux. And no other module writes a layout again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Btf, type BtfType } from '../src/object/btf/index.js';
import * as CTX from '../src/uapi/ctx.js';
import { ROOT } from './paths.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

/** The kernel's struct for each layout, and the layout's key that is the struct's size (if any). */
const STRUCTS: ReadonlyArray<[keyof typeof CTX, string, string | undefined]> = [
  ['SK_BUFF', '__sk_buff', 'size'],
  ['XDP_MD', 'xdp_md', 'size'],
  ['BPF_SOCK', 'bpf_sock', 'size'],
  ['BPF_SOCK_ADDR', 'bpf_sock_addr', 'size'],
  ['BPF_SOCK_OPS', 'bpf_sock_ops', 'size'],
  ['SK_MSG_MD', 'sk_msg_md', 'end'],
  ['BPF_SYSCTL', 'bpf_sysctl', 'size'],
  ['BPF_SOCKOPT', 'bpf_sockopt', 'size'],
  ['BPF_CGROUP_DEV_CTX', 'bpf_cgroup_dev_ctx', 'size'],
  ['BPF_SK_LOOKUP', 'bpf_sk_lookup', 'size'],
  ['SK_REUSEPORT_MD', 'sk_reuseport_md', 'size'],
  ['BPF_FLOW_KEYS', 'bpf_flow_keys', 'size'],
  ['PT_REGS', 'pt_regs', undefined],
];

/** pt_regs's user-space names (uapi/asm/ptrace.h, which tsbpf uses) and the kernel's own (asm/ptrace.h). */
const KERNEL_NAME: Readonly<Record<string, string>> = { rax: 'ax', rcx: 'cx', rdx: 'dx', rsi: 'si', rdi: 'di', rip: 'ip', rsp: 'sp' };

/** Layout keys that name padding of the kernel's struct (`__u16 :16;`, which BTF leaves out: no member starts there). */
const ANONYMOUS: Readonly<Record<string, readonly string[]>> = { bpf_sk_lookup: ['pad'] };

/** Byte offsets of a struct's named members, anonymous unions (__bpf_md_ptr) entered. */
function offsets(btf: Btf, t: BtfType, base = 0, out = new Map<string, number>()): Map<string, number> {
  if (t.kind !== 'struct' && t.kind !== 'union') return out;
  for (const m of t.members) {
    const at = base + m.bitOffset / 8;
    if (m.name) out.set(m.name, at);
    else offsets(btf, btf.typeById(btf.resolve(m.typeId)), at, out);
  }
  return out;
}

test('every context layout is the running kernel\'s (vmlinux BTF)', (t) => {
  if (!existsSync(VMLINUX)) return t.skip(`${VMLINUX} is missing: not a Linux with BTF`);
  const btf = Btf.parse(new Uint8Array(readFileSync(VMLINUX)));
  for (const [key, struct, sizeKey] of STRUCTS) {
    const st = btf.typeByName(struct, 'struct');
    assert.ok(st && st.kind === 'struct', `struct ${struct}`);
    const kernel = offsets(btf, st);
    const layout = CTX[key] as Readonly<Record<string, number>>;
    for (const [field, off] of Object.entries(layout)) {
      if (field === sizeKey) assert.equal(off, st.size, `sizeof(struct ${struct})`);
      else if (ANONYMOUS[struct]?.includes(field)) assert.ok(off < st.size && ![...kernel.values()].includes(off), `${struct}.${field}: padding at ${off}, where no member starts`);
      else assert.equal(off, kernel.get(field) ?? kernel.get(KERNEL_NAME[field] ?? field), `${struct}.${field}`);
    }
    if (key === 'PT_REGS') assert.equal(CTX.PT_REGS_SIZE, st.size, 'sizeof(struct pt_regs)');
  }
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no module but src/uapi/ctx.ts writes a context layout', () => {
  // an object literal giving a context field its offset: `data_end: 80`, `rip: 128`, `wire_len: 160`, ...
  const LAYOUT = /\b(?:data_end|data_meta|ingress_ifindex|rx_queue_index|wire_len|remote_ip4|user_ip4|optval_end|access_type|file_pos|rip|sk_txhash):\s*\d+/;
  const problems: string[] = [];
  for (const abs of sources(join(ROOT, 'src'))) {
    const rel = relative(ROOT, abs);
    if (rel === join('src', 'uapi', 'ctx.ts')) continue;
    readFileSync(abs, 'utf8').split('\n').forEach((line, k) => {
      if (LAYOUT.test(line)) problems.push(`${rel}:${k + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(problems, []);
});
