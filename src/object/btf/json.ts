/**
 * JSON text with exact 64-bit integers: bpftool prints u64 values (enum64
 * values, map contents) as bare JSON numbers, which JSON.stringify cannot do
 * for a bigint without losing digits.
 */
export type JsonValue = string | number | bigint | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export function toJson(v: JsonValue, pretty = false, indent = ''): string {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inner = pretty ? indent + '    ' : '';
  const nl = pretty ? '\n' : '';
  const sep = pretty ? ': ' : ':';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + nl + v.map((x) => inner + toJson(x, pretty, inner)).join(',' + nl) + nl + indent + ']';
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return '{' + nl + keys.map((k) => inner + JSON.stringify(k) + sep + toJson(v[k]!, pretty, inner)).join(',' + nl) + nl + indent + '}';
}
