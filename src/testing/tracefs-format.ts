/**
 * A tracepoint's record from its tracefs `format` file
 * (/sys/kernel/tracing/events/CAT/NAME/format, written by the kernel's
 * trace_format_open / f_show): one `field:TYPE NAME; offset:N; size:N;
 * signed:N;` line per field, the common ones (common_type, common_flags,
 * common_preempt_count, common_pid) first. Used when the kernel BTF has no
 * trace_event_raw_<event> type for the event.
 */
import { TsbpfError } from '../errors.js';

export interface FormatField {
  name: string;
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** a `__data_loc` field: the u32 locates a string after the fixed part */
  dataLoc: boolean;
  /** `char NAME[N]`: an array of bytes */
  chars: boolean;
}

export interface TraceFormat {
  name?: string;
  id?: number;
  fields: FormatField[];
  /** bytes of the fixed part */
  size: number;
}

const FIELD = /^\s*field:(.+?)\s+([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?;\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;

export function parseFormat(text: string): TraceFormat {
  const fields: FormatField[] = [];
  let name: string | undefined;
  let id: number | undefined;
  for (const line of text.split('\n')) {
    const n = /^name:\s*(\S+)/.exec(line);
    if (n) name = n[1];
    const i = /^ID:\s*(\d+)/.exec(line);
    if (i) id = Number(i[1]);
    const m = FIELD.exec(line);
    if (!m) continue;
    const type = m[1]!;
    const dataLoc = type.startsWith('__data_loc');
    fields.push({
      name: m[2]!,
      type,
      offset: Number(m[4]),
      size: Number(m[5]),
      signed: m[6] === '1',
      dataLoc,
      chars: !dataLoc && m[3] !== undefined && /\bchar$/.test(type),
    });
  }
  if (fields.length === 0) throw new TsbpfError('EINVAL', 'the format text has no field: lines (expected a tracefs events/CAT/NAME/format file)');
  const size = Math.max(...fields.map((f) => f.offset + f.size));
  return { ...(name ? { name } : {}), ...(id !== undefined ? { id } : {}), fields, size };
}

/** The record's bytes: `values` by field name; integers (and pointers) through `bits`, strings into char arrays and __data_loc fields. */
export function formatRecord(fmt: TraceFormat, values: Readonly<Record<string, unknown>>, bits: (v: unknown) => bigint): Uint8Array {
  const byName = new Map(fmt.fields.map((f) => [f.name, f]));
  const tail: Uint8Array[] = [];
  let end = fmt.size;
  const fixed = new Uint8Array(fmt.size);
  const dv = new DataView(fixed.buffer);
  const vals: Record<string, unknown> = { ...(fmt.id !== undefined ? { common_type: fmt.id } : {}), ...values };
  for (const [name, v] of Object.entries(vals)) {
    const f = byName.get(name);
    if (!f) throw new TsbpfError('EINVAL', `the event ${fmt.name ?? ''} has no field ${name} (${[...byName.keys()].join(', ')})`);
    if (f.dataLoc || f.chars) {
      const bytes = typeof v === 'string' ? new TextEncoder().encode(f.dataLoc ? v + '\0' : v) : v instanceof Uint8Array ? v : undefined;
      if (!bytes) throw new TsbpfError('EINVAL', `${name}: a string field takes a string or bytes`);
      if (f.chars) {
        if (bytes.length > f.size) throw new TsbpfError('EINVAL', `${name}: ${bytes.length} bytes do not fit in ${f.size}`);
        fixed.set(bytes, f.offset);
        continue;
      }
      dv.setUint32(f.offset, (bytes.length << 16) | end, true);
      tail.push(bytes);
      end += bytes.length;
      continue;
    }
    if (![1, 2, 4, 8].includes(f.size)) throw new TsbpfError('EINVAL', `${name}: fields of ${f.size} bytes take bytes, not a number`);
    const b = bits(v);
    const width = BigInt(f.size * 8);
    const lo = f.signed ? -(1n << (width - 1n)) : 0n;
    const hi = (1n << width) - 1n;
    const n = f.signed ? BigInt.asIntN(64, b) : b;
    if (n < lo || n > hi) throw new TsbpfError('EINVAL', `${name}: ${n} does not fit in ${f.size} bytes`);
    for (let i = 0; i < f.size; i++) fixed[f.offset + i] = Number((BigInt.asUintN(Number(width), n) >> BigInt(8 * i)) & 0xffn);
  }
  const out = new Uint8Array(end);
  out.set(fixed);
  let at = fmt.size;
  for (const t of tail) {
    out.set(t, at);
    at += t.length;
  }
  return out;
}
