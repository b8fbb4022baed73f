/**
 * Sockets of the kernel model as the socket helpers of tracing programs see
 * them: bpf_get_socket_cookie on a `struct sock *` (net/core/filter.c
 * bpf_get_socket_ptr_cookie) and the bpf_skc_to_* casts, which answer from
 * the socket's own fields exactly as the kernel's do (its family, state,
 * protocol, type and `sk_prot`). A test makes the socket with
 * `kit.model.object('tcp_sock', { inet_conn: { icsk_inet: { sk: { ... } } } })`
 * or `kit.model.object('sock', { __sk_common: { skc_family: 2 }, ... })`.
 */
import { TsbpfError } from '../errors.js';
import type { KernelModel, KernelObject } from './model.js';

/** include/net/tcp_states.h */
const TCP_TIME_WAIT = 6;
const TCP_NEW_SYN_RECV = 12;
/** include/linux/socket.h, include/uapi/linux/in.h, include/linux/net.h */
const AF_UNIX = 1;
const AF_INET6 = 10;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const SOCK_DGRAM = 2;

/** The bpf_skc_to_* helpers, by the type each casts to. */
export type SkcToKind = 'tcp6_sock' | 'tcp_sock' | 'tcp_timewait_sock' | 'tcp_request_sock' | 'udp6_sock' | 'unix_sock';
// bpf_skc_to_mptcp_sock is not among them: it takes ARG_PTR_TO_SOCK_COMMON, which no tracing program holds.

/** One field of a model object, 0 where the kernel BTF has no such field or a pointer on the way is NULL. */
function field(o: KernelObject, path: string): bigint {
  try {
    const v = o.get(path);
    return typeof v === 'bigint' ? v : 0n;
  } catch (e) {
    if (e instanceof TsbpfError) return 0n;
    throw e;
  }
}

export class ModelSockets {
  /** sock_cookie's generator on one CPU (include/linux/cookie.h gen_cookie_next): 1, 2, 3, ... */
  private lastCookie = 0n;

  constructor(
    private readonly model: KernelModel,
    /** an address of the kit's symbol table (tcp_prot, tcpv6_prot: what sk->sk_prot points at) */
    private readonly symbol: (name: string) => bigint,
  ) {}

  /**
   * The socket at `addr`. The kernel would read whatever is there; a test
   * that hands a program a socket pointer the model does not hold has made
   * a mistake, which it hears about (EFAULT) instead of a made-up answer.
   */
  private sock(addr: bigint, helper: string): KernelObject {
    const o = this.model.at(Number(addr), 'sock');
    if (!o) throw new TsbpfError('EFAULT', `${helper}: 0x${addr.toString(16)} is not a struct sock of the kernel model (make one with kit.model.object('sock', ...))`);
    return o;
  }

  /**
   * sock_gen_cookie (net/core/sock_diag.c __sock_gen_cookie): the socket's
   * cookie, given one from the generator the first time it is asked for
   * and kept in sk->sk_cookie from then on, as the kernel does. NULL: 0
   * (bpf_get_socket_ptr_cookie).
   */
  cookie(addr: bigint): bigint {
    if (addr === 0n) return 0n;
    const sk = this.sock(addr, 'bpf_get_socket_cookie');
    const have = field(sk, '__sk_common.skc_cookie');
    if (have !== 0n) return BigInt.asUintN(64, have);
    const next = ++this.lastCookie;
    sk.set({ __sk_common: { skc_cookie: next } });
    return next;
  }

  /**
   * bpf_skc_to_<kind> (net/core/filter.c): the same pointer when the
   * socket is one of that kind, NULL otherwise.
   */
  skcTo(kind: SkcToKind, addr: bigint): bigint {
    if (addr === 0n) return 0n;
    const sk = this.sock(addr, `bpf_skc_to_${kind}`);
    const family = Number(field(sk, '__sk_common.skc_family'));
    const state = Number(field(sk, '__sk_common.skc_state'));
    const protocol = Number(field(sk, 'sk_protocol'));
    // sk_fullsock: neither a timewait nor a request socket (include/net/sock.h)
    const full = ((1 << state) & ~((1 << TCP_TIME_WAIT) | (1 << TCP_NEW_SYN_RECV))) !== 0;
    const tcpProt = (): boolean => {
      const prot = BigInt.asUintN(64, field(sk, '__sk_common.skc_prot'));
      return prot !== 0n && (prot === this.symbol('tcp_prot') || prot === this.symbol('tcpv6_prot'));
    };
    let yes: boolean;
    switch (kind) {
      case 'tcp6_sock':
        yes = full && protocol === IPPROTO_TCP && family === AF_INET6;
        break;
      case 'tcp_sock':
        yes = full && protocol === IPPROTO_TCP;
        break;
      case 'tcp_timewait_sock':
        yes = state === TCP_TIME_WAIT && tcpProt();
        break;
      case 'tcp_request_sock':
        yes = state === TCP_NEW_SYN_RECV && tcpProt();
        break;
      case 'udp6_sock':
        yes = full && protocol === IPPROTO_UDP && Number(field(sk, 'sk_type')) === SOCK_DGRAM && family === AF_INET6;
        break;
      case 'unix_sock':
        yes = full && family === AF_UNIX;
        break;
    }
    return yes ? addr : 0n;
  }
}
