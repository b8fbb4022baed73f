/**
 * Socket filters on a live UDP socket, with SO_ATTACH_BPF's semantics on a
 * Linux UDP socket. There the filter runs in udp_queue_rcv_one_skb
 * (net/ipv4/udp.c, net/ipv6/udp.c) as
 * sk_filter_trim_cap(sk, skb, sizeof(struct udphdr)), after the IP layer has
 * pulled its header, so:
 *   - the packet starts at the UDP header: bpf_skb_load_bytes(skb, 0, ...)
 *     and LD_ABS 0 read the source port, LD_ABS 4 the UDP length;
 *   - skb->len is the UDP length (8 + payload);
 *   - the return value is how many bytes to keep: 0 drops the datagram
 *     (-EPERM), a value below the length trims it (pskb_trim) but never
 *     below the 8-byte UDP header (the cap), so a return of 1..8 delivers an
 *     empty datagram; a larger value keeps it whole. The application gets
 *     the payload after the trim (rinfo.size says how much).
 * The __sk_buff fields a socket filter may read are filled as Linux fills
 * them for a datagram received on the socket (checked against the kernel by
 * test/hooks-sockfilter-kernel.test.ts): len; pkt_type PACKET_HOST (0);
 * protocol htons(ETH_P_IP or ETH_P_IPV6); ifindex and ingress_ifindex 1
 * (loopback: tsbpf cannot know the real interface of a remote peer); mark,
 * priority, queue_mapping, vlan_*, tc_index, hash, napi_id, gso_* 0; cb[]
 * zeroed before each program (bpf_prog_run_save_cb). The UDP checksum field
 * holds what Linux leaves there: the full checksum for a peer elsewhere, and
 * for a peer on this host (delivered over loopback, checksum offloaded) only
 * the pseudo-header sum (CHECKSUM_PARTIAL).
 * Not provided: LD_ABS/LD_IND's negative SKF_NET_OFF / SKF_LL_OFF offsets,
 * skb->sk, and the socket helpers (get_socket_cookie, get_socket_uid).
 * Several filters run in attach order, each on what the previous kept
 * (Linux has one filter per socket); a filter that faults drops.
 */
import { SK_BUFF } from '../../uapi/ctx.js';
import type { Socket, RemoteInfo } from 'node:dgram';
import { memOf } from '../link.js';
import { ETH_HLEN, ETH_P_IP, ETH_P_IPV6, writeUdpFrame } from './frame.js';
import { DgramHook, hookOf, type PacketBuf } from './dgram-hook.js';

/** sizeof(struct udphdr): sk_filter_trim_cap's cap on a UDP socket */
const UDP_HLEN = 8;
/** NET_SKB_PAD on x86-64, and the skb_shared_info tailroom (as runtime/testrun/skb.ts) */
const SKB_HEADROOM = 64;
const SKB_SHINFO_SIZE = 320;
/** skb->pkt_type of a datagram for this host */
const PACKET_HOST = 0;
/** The loopback device (skb->dev and skb->skb_iif of a datagram between two local sockets) */
const LOOPBACK_IFINDEX = 1;
/** The smallest data area kept (a full Ethernet MTU's frame): most sockets never need a larger one. */
const MIN_DATA = 1536;

export class SocketFilterHook extends DgramHook {
  /** in UDP's receive path, after xdp */
  protected readonly stage = 1;
  /** datagrams dropped (return 0) and truncated */
  dropped = 0;
  truncated = 0;
  private readonly initBuf = (b: PacketBuf): void => {
    b.packet = { kind: 'skb', ctx: b.ctx, head: b.base, end: b.base + b.size - SKB_SHINFO_SIZE };
  };

  constructor(socket: Socket) {
    super(socket, 'socket_filter/dgram', ['socket_filter']);
  }

  protected handle(msg: Buffer, rinfo: RemoteInfo): boolean {
    const t = this.templateOf(rinfo);
    const frameLen = t.headers.length + msg.length;
    const size = SKB_HEADROOM + Math.ceil(Math.max(frameLen, MIN_DATA) / 64) * 64 + SKB_SHINFO_SIZE;
    const len = UDP_HLEN + msg.length;
    let keep = len;
    let drop = false;
    let b: PacketBuf | undefined;
    const list = this.links;
    try {
      for (let i = 0; i < list.length; i++) {
        const link = list[i]!;
        const space = link.program.runtime.space;
        let data = 0;
        if (b === undefined || b.space !== space) {
          // The packet in this program's space (once per space: filters cannot change its bytes).
          if (b !== undefined) this.releaseBuf(b);
          b = this.acquireBuf(space, size, 64, SK_BUFF.size, true, this.initBuf);
          const m = memOf(space);
          writeUdpFrame(m.u8, b.base + SKB_HEADROOM, t, msg, t.local ? 'partial' : 'full');
          // skb->data at the UDP header: the IP layer pulled the Ethernet and IP headers.
          data = b.base + SKB_HEADROOM + ETH_HLEN + t.ipLen;
          const c = b.ctx;
          m.u8.fill(0, c, c + SK_BUFF.size);
          const dv = m.dv;
          dv.setUint32(c + SK_BUFF.pkt_type, PACKET_HOST, true);
          // __sk_buff.protocol is skb->protocol, a __be16.
          dv.setUint16(c + SK_BUFF.protocol, t.v4 ? ETH_P_IP : ETH_P_IPV6, false);
          dv.setUint32(c + SK_BUFF.ingress_ifindex, LOOPBACK_IFINDEX, true);
          dv.setUint32(c + SK_BUFF.ifindex, LOOPBACK_IFINDEX, true);
          // data/data_end/data_meta: not readable by socket filters; the helpers and LD_ABS use them.
          dv.setUint32(c + SK_BUFF.data, data, true);
          dv.setUint32(c + SK_BUFF.data_meta, data, true);
        } else data = memOf(space).dv.getUint32(b.ctx + SK_BUFF.data, true);
        const m = memOf(space);
        const c = b.ctx;
        m.dv.setUint32(c + SK_BUFF.len, keep, true);
        m.dv.setUint32(c + SK_BUFF.data_end, data + keep, true);
        m.u8.fill(0, c + SK_BUFF.cb, c + SK_BUFF.cb + 20);
        let r: number;
        try {
          r = this.runOn(b, link);
          link.runs++;
        } catch (e) {
          // A faulting filter drops, as the kernel treats an aborted filter run (returns 0).
          link.errors++;
          link.lastError = e;
          r = 0;
        }
        if (r === 0) {
          drop = true;
          break;
        }
        // pskb_trim(skb, max(cap, pkt_len)): only ever shorter.
        keep = Math.min(keep, Math.max(UDP_HLEN, r));
      }
    } finally {
      if (b !== undefined) this.releaseBuf(b);
    }
    if (drop) {
      this.dropped++;
      return false;
    }
    const n = keep - UDP_HLEN;
    if (n === msg.length) return this.emitMessage(msg, rinfo);
    this.truncated++;
    return this.emitMessage(msg.subarray(0, n), { ...rinfo, size: n });
  }
}

const hooks = new WeakMap<Socket, SocketFilterHook>();

/** The socket filter hook of a UDP socket: `program.attach(socketFilter(socket))`. */
export function socketFilter(socket: Socket): SocketFilterHook {
  return hookOf(hooks, socket, 'socketFilter', (s) => new SocketFilterHook(s));
}
