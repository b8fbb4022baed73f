/**
 * rtnetlink requests (RFC 3549; include/uapi/linux/netlink.h and
 * rtnetlink.h): a message is an nlmsghdr (u32 length, u16 type, u16 flags,
 * u32 sequence, u32 port id), a fixed header (here struct tcmsg) and
 * attributes (u16 length, u16 type, payload padded to 4; nested attributes
 * are attributes whose payload is attributes). Requests ask for an ACK, and
 * the kernel answers NLMSG_ERROR with error 0 or -errno, plus, with
 * NETLINK_EXT_ACK, a message attribute saying why (what `tc` prints).
 */
import { TsbpfError } from '../errors.js';
import { nativeBuf } from './attr.js';
import { kernelError, type Sys } from './ffi.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_EXT_ACK = 11;

export const NLM_F = { REQUEST: 0x1, MULTI: 0x2, ACK: 0x4, ECHO: 0x8, DUMP: 0x300, EXCL: 0x200, CREATE: 0x400 } as const;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;
const HDR = 16;

const align4 = (n: number): number => (n + 3) & ~3;

/** An attribute list under construction (nested lists are attributes too). */
export class NlAttrs {
  private readonly parts: Uint8Array[] = [];
  bytes(type: number, payload: Uint8Array): this {
    const a = new Uint8Array(align4(4 + payload.length));
    new DataView(a.buffer).setUint16(0, 4 + payload.length, true);
    new DataView(a.buffer).setUint16(2, type, true);
    a.set(payload, 4);
    this.parts.push(a);
    return this;
  }
  u32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.bytes(type, b);
  }
  str(type: number, s: string): this {
    return this.bytes(type, new TextEncoder().encode(`${s}\0`));
  }
  nested(type: number, inner: NlAttrs): this {
    return this.bytes(type, inner.encode());
  }
  encode(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** One reply message: its type, flags and the bytes after the nlmsghdr. */
export interface NlMessage {
  type: number;
  flags: number;
  body: Uint8Array;
}

/** An NETLINK_ROUTE socket of this process; close() when done. */
export class RtNetlink {
  private readonly fd: number;
  private seq = Math.floor(Date.now() / 1000) >>> 0;
  private readonly buf = nativeBuf(65536);

  constructor(private readonly sys: Sys) {
    this.fd = sys.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE, 'netlink (NETLINK_ROUTE)');
    const on = nativeBuf(4);
    new DataView(on.buffer).setUint32(0, 1, true);
    try {
      sys.setsockopt(this.fd, SOL_NETLINK, NETLINK_EXT_ACK, on);
    } catch {
      // kernels before 4.12 have no extended ACK: errors come without the kernel's message
    }
  }

  close(): void {
    this.sys.close(this.fd);
  }

  /**
   * Send a request (type, flags, fixed header, attributes) and read replies
   * until its ACK (or, for a dump, NLMSG_DONE): the messages other than the
   * ACK. A negative error throws a KernelError naming `what`, with the
   * kernel's extended-ACK message when it gave one.
   */
  request(type: number, flags: number, header: Uint8Array, attrs: NlAttrs | undefined, what: string): NlMessage[] {
    const payload = attrs?.encode() ?? new Uint8Array(0);
    const len = HDR + align4(header.length) + payload.length;
    const msg = nativeBuf(len);
    const dv = new DataView(msg.buffer);
    const seq = (this.seq = (this.seq + 1) >>> 0);
    dv.setUint32(0, len, true);
    dv.setUint16(4, type, true);
    dv.setUint16(6, flags | NLM_F.REQUEST | NLM_F.ACK, true);
    dv.setUint32(8, seq, true);
    msg.set(header, HDR);
    msg.set(payload, HDR + align4(header.length));
    this.sys.send(this.fd, msg, what);
    const dump = (flags & NLM_F.DUMP) === NLM_F.DUMP;
    const out: NlMessage[] = [];
    for (;;) {
      const n = this.sys.recv(this.fd, this.buf, what);
      const v = new DataView(this.buf.buffer, 0, n);
      for (let o = 0; o + HDR <= n; ) {
        const mlen = v.getUint32(o, true);
        if (mlen < HDR || o + mlen > n) throw new TsbpfError('EBADMSG', `${what}: a truncated netlink reply`);
        const m: NlMessage = { type: v.getUint16(o + 4, true), flags: v.getUint16(o + 6, true), body: this.buf.slice(o + HDR, o + mlen) };
        const mseq = v.getUint32(o + 8, true);
        o += align4(mlen);
        if (mseq !== seq) continue; // an answer to an earlier request
        if (m.type === NLMSG_DONE) return out;
        if (m.type === NLMSG_ERROR) {
          const err = new DataView(m.body.buffer, m.body.byteOffset).getInt32(0, true);
          if (err === 0 && !dump) return out;
          if (err < 0) throw withExtAck(kernelError(what, -err), m);
          continue;
        }
        out.push(m);
      }
    }
  }
}

/** The NLMSGERR_ATTR_MSG of an extended ACK, appended to the error's message. */
function withExtAck(e: Error, m: NlMessage): Error {
  if (!(m.flags & NLM_F_ACK_TLVS)) return e;
  const b = m.body;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // struct nlmsgerr: int error, then the request's nlmsghdr (whole request unless capped)
  let o = 4 + (m.flags & NLM_F_CAPPED ? HDR : dv.getUint32(4, true));
  while (o + 4 <= b.length) {
    const alen = dv.getUint16(o, true);
    if (alen < 4) break;
    if (dv.getUint16(o + 2, true) === NLMSGERR_ATTR_MSG) {
      const s = new TextDecoder().decode(b.subarray(o + 4, o + alen)).replace(/\0.*$/s, '');
      if (s) e.message += ` (the kernel says: ${s})`;
      break;
    }
    o += align4(alen);
  }
  return e;
}
