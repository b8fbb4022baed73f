/**
 * bpf_trace_printk / bpf_snprintf formatting (src/helpers/printf.ts): the
 * conversions the kernel allows, vsnprintf's padding and sign rules, the
 * kernel's refusals (EINVAL) and unreadable strings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSpace } from '../src/memory/address-space.js';
import { bpfFormat } from '../src/helpers/printf.js';

const space = new AddressSpace({ initialPages: 2 });
const enc = (s: string): Uint8Array => Uint8Array.from([...s].map((c) => c.charCodeAt(0)).concat(0));
const fmt = (f: string, ...args: Array<bigint | number>): string => {
  const r = bpfFormat(space, enc(f), args.map((a) => BigInt.asUintN(64, BigInt(a))));
  if (!r.ok) throw new Error(r.errno);
  return r.text;
};
const refused = (f: string, ...args: Array<bigint | number>): boolean => !bpfFormat(space, enc(f), args.map((a) => BigInt.asUintN(64, BigInt(a)))).ok;

test('integers: widths, flags, l/ll, signedness', () => {
  assert.equal(fmt('%d %u %x %X', -1, -1, 255, 255), '-1 4294967295 ff FF');
  assert.equal(fmt('%lld %llu %lx', -1, -1, -1), '-1 18446744073709551615 ffffffffffffffff');
  assert.equal(fmt('%ld', 2n ** 40n), String(2 ** 40));
  assert.equal(fmt('%d', 2n ** 40n + 5n), '5');
  assert.equal(fmt('[%5d|%-5d|%05d|%+d|% d]', 42, 42, -42, 42, 42), '[   42|42   |-0042|+42| 42]');
  assert.equal(fmt('%i%%', 7), '7%');
});

test('strings, chars and IP addresses read through pointers', () => {
  const a = space.alloc(64);
  space.write(a, enc('tsbpf'));
  space.write(a + 16, Uint8Array.of(192, 168, 1, 10));
  assert.equal(fmt('%s!', a), 'tsbpf!');
  assert.equal(fmt('[%8s]', a), '[   tsbpf]');
  assert.equal(fmt('%c%c', 0x68, 0x69), 'hi');
  assert.equal(fmt('%pI4 %pi4', a + 16, a + 16), '192.168.1.10 192.168.001.010');
  // An unreadable string pointer prints as the empty string, as the kernel's nofault copy does.
  assert.equal(fmt('<%s>', 16), '<>');
});

test('the kernel refuses: too few arguments, precision, unknown conversions, control bytes, %s followed by a letter', () => {
  assert.ok(refused('%d %d', 1));
  assert.ok(refused('%.2d', 1));
  assert.ok(refused('%f', 1));
  assert.ok(refused('%n', 1));
  assert.ok(refused('a\x01b'));
  assert.ok(refused('%sx', 0));
  assert.ok(refused('%pQ', 0));
  assert.ok(!refused('%s.', 0));
  assert.ok(!refused('line\n'));
  // no NUL within the given size
  assert.equal(bpfFormat(space, Uint8Array.of(0x61, 0x62), []).ok, false);
});
