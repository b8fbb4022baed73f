/**
 * The object's BTF into the kernel (libbpf's bpf_object__load_btf): the
 * sanitised blob, plus the strings line_info names (the source file and the
 * line text: the encoder rebuilds the string table, so offsets are given out
 * here, after it), loaded with BPF_BTF_LOAD. A kernel that refuses it gets
 * the objects without BTF, as libbpf does ("BTF is optional, ignoring"),
 * and the reason is kept.
 */
import type { Btf } from '../object/btf/index.js';
import type { CollectionSpec } from '../object/spec.js';
import { appendBtfStrings } from '../object/writer.js';
import { Attr, BTF_LOAD, nativeBuf } from './attr.js';
import { BPF_CMD, KernelError, type Sys } from './ffi.js';
import { fixExterns, sanitizeBtf } from './btf-sanitize.js';
import type { Features } from './probe.js';

export interface LoadedBtf {
  fd: number;
  /** offsets of line_info strings in the loaded blob */
  strings: Map<string, number>;
}

export type BtfOutcome = { ok: true; btf: LoadedBtf } | { ok: false; reason: string };

export function loadObjectBtf(sys: Sys, features: Features, spec: CollectionSpec, btf: Btf): BtfOutcome {
  const base = features.btf();
  if (!base.ok) return { ok: false, reason: base.reason ?? 'the kernel does not load BTF' };
  const kconfig = [...spec.maps.values()].find((m) => m.section === '.kconfig');
  const clean = sanitizeBtf(fixExterns(btf, kconfig), features.btfFeatures());
  const lineStrings: string[] = [];
  for (const p of spec.programs.values()) for (const l of p.lineInfo ?? []) lineStrings.push(l.fileName, l.line);
  const { bytes, offsets } = appendBtfStrings(clean.encode('le'), true, lineStrings);
  const log = nativeBuf(64 * 1024);
  const a = new Attr(sys);
  a.ptr(BTF_LOAD.btf, bytes);
  a.u32(BTF_LOAD.btf_size, bytes.length);
  try {
    const fd = sys.bpf(BPF_CMD.BTF_LOAD, a.bytes);
    return { ok: true, btf: { fd, strings: offsets } };
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    // again with the log, for the reason
    const b = new Attr(sys);
    b.ptr(BTF_LOAD.btf, bytes);
    b.u32(BTF_LOAD.btf_size, bytes.length);
    const lb = b.ptr(BTF_LOAD.btf_log_buf, log);
    b.u32(BTF_LOAD.btf_log_size, log.length).u32(BTF_LOAD.btf_log_level, 1);
    sys.bpfTry(BPF_CMD.BTF_LOAD, b.bytes);
    const text = new TextDecoder().decode(lb.subarray(0, lb.indexOf(0) < 0 ? lb.length : lb.indexOf(0))).trim();
    return { ok: false, reason: `${e.message}${text ? `\n${text}` : ''}` };
  }
}
