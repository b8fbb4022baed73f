/**
 * The gallery: each example is playground/examples/<id>.c with the object
 * clang-19 built from it (<id>.o, by playground/examples/build.sh), the
 * program to show first, what the verifier should say, and the lesson.
 * test/playground-examples.test.ts loads every one and checks `verdict`.
 */
import { DEFAULT_PACKET, type PacketSpec } from './packet.js';

export interface Example {
  id: string;
  title: string;
  /** the program shown first */
  program: string;
  verdict: 'accepted' | 'rejected';
  lesson: string;
  /** the packet the run panel starts with */
  packet: PacketSpec;
}

const udp = DEFAULT_PACKET;
const tcp80: PacketSpec = { ...DEFAULT_PACKET, l4: 'tcp', sport: 40000, dport: 80, tcpFlags: 'S' };

export const EXAMPLES: readonly Example[] = [
  {
    id: 'xdp_firewall', title: 'XDP firewall', program: 'xdp_firewall', verdict: 'accepted', packet: udp,
    lesson: 'Every packet read is checked against data_end first; maps hold the blocklist and the per-protocol counts the host reads. Add 0a000001 → 01 to the blocklist and the packet from 10.0.0.1 is dropped.',
  },
  {
    id: 'packet_counter', title: 'Packet counter', program: 'count_packets', verdict: 'accepted', packet: udp,
    lesson: 'A map value is shared with the host: the program adds to it atomically, the host reads it. A lookup can fail, so the result is checked for NULL.',
  },
  {
    id: 'ringbuf_events', title: 'Ring buffer events', program: 'udp_events', verdict: 'accepted', packet: udp,
    lesson: 'bpf_ringbuf_reserve hands out a record the program must submit or discard on every path; the host reads the submitted records in order.',
  },
  {
    id: 'bounded_loop', title: 'Bounded loop', program: 'sum_bytes', verdict: 'accepted', packet: udp,
    lesson: 'The verifier follows the loop until it ends: a constant bound, and a data_end check inside the loop for each byte read.',
  },
  {
    id: 'bpf2bpf', title: 'bpf-to-bpf call', program: 'count_protocols', verdict: 'accepted', packet: tcp80,
    lesson: 'A function that is not inlined runs in its own stack frame; the verifier checks it with the types of the caller’s arguments (see frame1 in the log).',
  },
  {
    id: 'tail_calls', title: 'Tail calls', program: 'dispatch', verdict: 'accepted', packet: udp,
    lesson: 'bpf_tail_call jumps into another program of a prog array and never returns; an empty slot falls through. UDP goes to handle_udp (XDP_TX), TCP to handle_tcp (XDP_DROP).',
  },
  {
    id: 'broken_bounds', title: 'Broken: unchecked packet read', program: 'drop_http', verdict: 'rejected', packet: tcp80,
    lesson: 'Checking the IPv4 header is not enough to read the TCP header behind it: each read needs its own proof that it ends before data_end.',
  },
  {
    id: 'broken_null', title: 'Broken: missing NULL check', program: 'count_unchecked', verdict: 'rejected', packet: udp,
    lesson: 'bpf_map_lookup_elem returns map_value_or_null: until the program compares it with 0, the verifier refuses any access through it.',
  },
  {
    id: 'broken_leak', title: 'Broken: leaked reservation', program: 'leak_record', verdict: 'rejected', packet: udp,
    lesson: 'A ring buffer reservation is a reference: a path that returns while holding it would leak ring buffer space, so the verifier refuses the program.',
  },
];

export function exampleById(id: string): Example | undefined {
  return EXAMPLES.find((e) => e.id === id);
}
