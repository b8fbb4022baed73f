/**
 * Tracepoints: Node.js diagnostics_channel events as the tracepoint program
 * type (include/tsbpf/tracepoints.h documents each context struct), and
 * application tracepoints fired from app code.
 *
 * A tracepoint subscribes to its channel only while a program is attached
 * (the kernel's tracepoint static key is likewise off when nobody listens),
 * so an idle tracepoint costs the application nothing. The context is
 * written into each attached program's address space at the event and the
 * programs run synchronously inside the publish call, in attach order.
 */
import dc from 'node:diagnostics_channel';
import { TsbpfError } from '../errors.js';
import type { Program } from '../runtime/runtime.js';
import type { AddressSpace } from '../memory/address-space.js';
import { HookPoint, memOf, type Link } from './link.js';

/** PERF_MAX_TRACE_SIZE: the largest record the verifier lets a tracepoint program read. */
const MAX_TRACE_SIZE = 8192;

const HTTP_REQUEST_SIZE = 240;
const NET_SOCKET_SIZE = 64;
const CHILD_PROCESS_SIZE = 152;
const WORKER_SIZE = 24;
const APP_EVENT_HEADER = 16;

const HTTP_METHODS: Record<string, number> = { GET: 1, HEAD: 2, POST: 3, PUT: 4, DELETE: 5, PATCH: 6, OPTIONS: 7, CONNECT: 8, TRACE: 9 };

const enc = new TextEncoder();

/** Write `s` as a NUL-terminated, zero-padded C string of at most `max` bytes (cut at max-1). */
function writeCString(space: AddressSpace, addr: number, s: string, max: number): void {
  const b = enc.encode(s);
  const n = Math.min(b.length, max - 1);
  space.u8.set(b.subarray(0, n), addr);
  space.u8.fill(0, addr + n, addr + max);
}

let nextTpId = 1;

/** A tracepoint: a hook point taking `tracepoint` programs, fed by `fill` on each event. */
export class Tracepoint extends HookPoint {
  readonly id = nextTpId++;
  constructor(
    readonly category: string,
    readonly event: string,
    ctxSize: number,
    onFirst?: () => void,
    onLast?: () => void,
  ) {
    super(`tracepoint/${category}/${event}`, ['tracepoint'], ctxSize, onFirst, onLast);
  }

  /** Run the attached programs on one event; `fill` writes the fields after the common header. */
  emit(fill: (space: AddressSpace, addr: number, p: Program) => void): void {
    if (!this.active) return;
    this.run((space, addr, p) => {
      const dv = memOf(space).dv;
      dv.setUint16(addr, this.id & 0xffff, true);
      dv.setInt32(addr + 4, process.pid, true);
      dv.setBigUint64(addr + 8, p.runtime.host.clock.monotonicNs(), true);
      fill(space, addr, p);
    });
  }

  /**
   * For app tracepoints (8 KiB contexts): skip zeroing the whole context per
   * event; the firer zeroes what an earlier, longer event left (AppTracepoint.fire).
   */
  manualZeroing(): this {
    this.zeroCtx = false;
    return this;
  }
  /** @internal the longest payload written so far (AppTracepoint) */
  written = 0;
}

const ids = new WeakMap<object, bigint>();
let nextId = 1n;
/** One id per object (request, socket): pairs the start and finish events of a request. */
function idOf(o: object | undefined): bigint {
  if (!o) return 0n;
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}

interface HttpFields {
  id: object | undefined;
  method: string | undefined;
  status: number | undefined;
  port: number | undefined;
  url: string | undefined;
}

function fillHttp(space: AddressSpace, a: number, f: HttpFields): void {
  const method = (f.method ?? '').toUpperCase();
  const url = f.url ?? '';
  space.writeU64(a + 16, idOf(f.id));
  space.writeU32(a + 24, HTTP_METHODS[method] ?? 0);
  space.writeU16(a + 28, (f.status ?? 0) & 0xffff);
  space.writeU16(a + 30, (f.port ?? 0) & 0xffff);
  space.writeU32(a + 32, enc.encode(url).length);
  writeCString(space, a + 40, method, 8);
  writeCString(space, a + 48, pathOf(url), 64);
  writeCString(space, a + 112, url, 128);
}

/** The path of a request target or URL: scheme and authority dropped, query and fragment cut. */
export function pathOf(url: string): string {
  let u = url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(u);
  if (scheme) u = u.slice(scheme[0].length) || '/';
  const q = u.search(/[?#]/);
  return q >= 0 ? u.slice(0, q) : u;
}

/** IPv4 / IPv6 text to 16 bytes (IPv4 in the first 4), network order; undefined when not an address. */
export function addrBytes(s: string | undefined): Uint8Array | undefined {
  if (!s) return undefined;
  const out = new Uint8Array(16);
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(s);
  if (v4) {
    for (let i = 0; i < 4; i++) out[i] = Number(v4[i + 1]) & 0xff;
    return out;
  }
  if (!s.includes(':')) return undefined;
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  for (let i = 0; i < 8; i++) {
    const g = parseInt(groups[i] ?? '0', 16) || 0;
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  }
  return out;
}

interface SocketLike {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
  remoteFamily?: string;
}

function fillSocket(space: AddressSpace, a: number, sock: SocketLike | undefined): void {
  space.writeU64(a + 16, idOf(sock as object | undefined));
  if (!sock) return;
  const fam = sock.remoteFamily === 'IPv6' ? 10 : sock.remoteFamily === 'IPv4' ? 2 : 0;
  space.writeU16(a + 24, fam);
  space.writeU16(a + 26, (sock.localPort ?? 0) & 0xffff);
  space.writeU16(a + 28, (sock.remotePort ?? 0) & 0xffff);
  const la = addrBytes(sock.localAddress);
  const ra = addrBytes(sock.remoteAddress);
  if (la) space.u8.set(la, a + 32);
  if (ra) space.u8.set(ra, a + 48);
}

interface Builtin {
  channel: string;
  size: number;
  fill(space: AddressSpace, addr: number, msg: unknown): void;
}

type Msg = Record<string, unknown>;
type Req = { method?: string; url?: string; path?: string; host?: string; protocol?: string; origin?: string; socket?: SocketLike };

/** The built-in tracepoints: event name (as in `tracepoint/node/<name>`) to channel and context. */
const BUILTINS: Record<string, Builtin> = {
  http_server_request_start: {
    channel: 'http.server.request.start',
    size: HTTP_REQUEST_SIZE,
    fill: (s, a, m) => {
      const req = (m as Msg).request as Req | undefined;
      fillHttp(s, a, { id: req as object, method: req?.method, status: 0, port: req?.socket?.localPort, url: req?.url });
    },
  },
  http_server_response_finish: {
    channel: 'http.server.response.finish',
    size: HTTP_REQUEST_SIZE,
    fill: (s, a, m) => {
      const { request: req, response: res } = m as { request?: Req; response?: { statusCode?: number } };
      fillHttp(s, a, { id: req as object, method: req?.method, status: res?.statusCode, port: req?.socket?.localPort, url: req?.url });
    },
  },
  http_client_request_start: {
    channel: 'http.client.request.start',
    size: HTTP_REQUEST_SIZE,
    fill: (s, a, m) => {
      const req = (m as Msg).request as Req | undefined;
      fillHttp(s, a, { id: req as object, method: req?.method, status: 0, port: portOfHost(req), url: `${req?.protocol ?? 'http:'}//${req?.host ?? ''}${req?.path ?? ''}` });
    },
  },
  http_client_response_finish: {
    channel: 'http.client.response.finish',
    size: HTTP_REQUEST_SIZE,
    fill: (s, a, m) => {
      const { request: req, response: res } = m as { request?: Req; response?: { statusCode?: number } };
      fillHttp(s, a, { id: req as object, method: req?.method, status: res?.statusCode, port: portOfHost(req), url: `${req?.protocol ?? 'http:'}//${req?.host ?? ''}${req?.path ?? ''}` });
    },
  },
  undici_request_create: {
    channel: 'undici:request:create',
    size: HTTP_REQUEST_SIZE,
    fill: (s, a, m) => {
      const req = (m as Msg).request as Req | undefined;
      fillHttp(s, a, { id: req as object, method: req?.method, status: 0, port: portOfOrigin(req?.origin), url: `${req?.origin ?? ''}${req?.path ?? ''}` });
    },
  },
  undici_request_headers: {
    channel: 'undici:request:headers',
    size: HTTP_REQUEST_SIZE,
    fill: (s, a, m) => {
      const { request: req, response: res } = m as { request?: Req; response?: { statusCode?: number } };
      fillHttp(s, a, { id: req as object, method: req?.method, status: res?.statusCode, port: portOfOrigin(req?.origin), url: `${req?.origin ?? ''}${req?.path ?? ''}` });
    },
  },
  net_client_socket: { channel: 'net.client.socket', size: NET_SOCKET_SIZE, fill: (s, a, m) => fillSocket(s, a, (m as Msg).socket as SocketLike) },
  net_server_socket: { channel: 'net.server.socket', size: NET_SOCKET_SIZE, fill: (s, a, m) => fillSocket(s, a, (m as Msg).socket as SocketLike) },
  child_process: {
    channel: 'child_process',
    size: CHILD_PROCESS_SIZE,
    fill: (s, a, m) => {
      const cp = (m as Msg).process as { pid?: number; spawnfile?: string; spawnargs?: string[] } | undefined;
      s.writeU32(a + 16, cp?.pid ?? 0);
      s.writeU32(a + 20, cp?.spawnargs?.length ?? 0);
      writeCString(s, a + 24, cp?.spawnfile ?? '', 128);
    },
  },
  worker_threads: {
    channel: 'worker_threads',
    size: WORKER_SIZE,
    fill: (s, a, m) => {
      const w = (m as Msg).worker as { threadId?: number } | undefined;
      s.writeU32(a + 16, w?.threadId ?? 0);
    },
  },
};

function portOfHost(req: Req | undefined): number {
  const sock = req?.socket;
  if (sock?.remotePort) return sock.remotePort;
  const m = /:(\d+)$/.exec(req?.host ?? '');
  return m ? Number(m[1]) : 0;
}

function portOfOrigin(origin: string | undefined): number {
  if (!origin) return 0;
  try {
    const u = new URL(origin);
    return Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  } catch {
    return 0;
  }
}

const registry = new Map<string, Tracepoint>();

/** The names of the built-in tracepoints (`tracepoint/node/<name>`). */
export function builtinTracepoints(): string[] {
  return Object.keys(BUILTINS);
}

/**
 * The tracepoint `category/event`: `node/<name>` for the built-in
 * diagnostics_channel events, `app/<name>` for application tracepoints
 * (created on first use). Unknown node events are ENOENT, as attaching to a
 * tracepoint the kernel does not have. Written as one word
 * (`tracepoint('node/child_process')`, the section's form) or as two.
 */
export function tracepoint(category: string, event?: string): Tracepoint {
  if (event === undefined) {
    const slash = category.indexOf('/');
    if (slash <= 0 || slash === category.length - 1 || category.indexOf('/', slash + 1) >= 0)
      throw new TsbpfError('EINVAL', `tracepoint '${category}': want 'category/event' (e.g. 'node/child_process') or tracepoint(category, event)`);
    event = category.slice(slash + 1);
    category = category.slice(0, slash);
  }
  const key = `${category}/${event}`;
  const have = registry.get(key);
  if (have) return have;
  let tp: Tracepoint;
  if (category === 'node') {
    const b = BUILTINS[event];
    if (!b) throw new TsbpfError('ENOENT', `no tracepoint node/${event} (known: ${builtinTracepoints().join(', ')})`);
    const handler =
      event === 'child_process'
        ? // The channel publishes from the ChildProcess constructor, before pid and file exist: the
          // tracepoint fires once the process has started (its 'spawn' event).
          (msg: unknown): void => {
            const proc = (msg as { process?: { once?: (e: string, f: () => void) => void } }).process;
            proc?.once?.('spawn', () => tp.emit((s, a) => b.fill(s, a, msg)));
          }
        : (msg: unknown): void => tp.emit((s, a) => b.fill(s, a, msg));
    tp = new Tracepoint(category, event, b.size, () => dc.subscribe(b.channel, handler), () => void dc.unsubscribe(b.channel, handler));
  } else if (category === 'app') {
    tp = new Tracepoint(category, event, MAX_TRACE_SIZE).manualZeroing();
  } else {
    throw new TsbpfError('ENOENT', `no tracepoint category ${category} (tsbpf has node/ and app/)`);
  }
  registry.set(key, tp);
  return tp;
}

/** An application tracepoint (`tracepoint/app/<name>`). */
export function appTracepoint(name: string): AppTracepoint {
  return new AppTracepoint(tracepoint('app', name));
}

/** Fires `tracepoint/app/<name>` from application code. */
export class AppTracepoint {
  constructor(readonly tracepoint: Tracepoint) {}
  /** Whether a program listens (skip building the payload when not). */
  get enabled(): boolean {
    return this.tracepoint.active;
  }
  /**
   * Run the attached programs on `data` (struct tsbpf_app_event: the bytes
   * start at offset 16). Numbers and bigints are written as u64 each, little-endian.
   */
  fire(data: Uint8Array | readonly (number | bigint)[]): void {
    if (!this.tracepoint.active) return;
    // Values are snapshot into a reused buffer (allocating an ArrayBuffer per event costs
    // hundreds of ns); a nested fire (from inside a program run) finds it busy and takes a fresh one.
    let pooled = false;
    let bytes: Uint8Array;
    if (data instanceof Uint8Array) bytes = data;
    else if (!poolBusy && data.length <= POOL_VALUES) {
      pooled = poolBusy = true;
      try {
        bytes = u64s(data, pool.subarray(0, data.length * 8));
      } catch (e) {
        poolBusy = false;
        throw e;
      }
    } else bytes = u64s(data);
    try {
      this.deliver(bytes);
    } finally {
      if (pooled) poolBusy = false;
    }
  }

  private deliver(bytes: Uint8Array): void {
    if (bytes.length > MAX_TRACE_SIZE - APP_EVENT_HEADER) throw new TsbpfError('E2BIG', `app tracepoint ${this.tracepoint.event}: ${bytes.length} bytes exceed ${MAX_TRACE_SIZE - APP_EVENT_HEADER}`);
    const tp = this.tracepoint;
    const prev = tp.written;
    if (bytes.length > prev) tp.written = bytes.length;
    // Bytes past this event's payload that an earlier, longer event wrote are zeroed: programs read zeros there, as after a fresh context.
    tp.emit((s, a) => {
      const u8 = memOf(s).u8;
      u8.set(bytes, a + APP_EVENT_HEADER);
      if (prev > bytes.length) u8.fill(0, a + APP_EVENT_HEADER + bytes.length, a + APP_EVENT_HEADER + prev);
    });
  }
}

/** The reused snapshot buffer of AppTracepoint.fire (values, u64 each). */
const POOL_VALUES = 64;
const pool = new Uint8Array(POOL_VALUES * 8);
const poolWords = new Int32Array(pool.buffer);
const poolView = new DataView(pool.buffer);
let poolBusy = false;

function u64s(vals: readonly (number | bigint)[], into?: Uint8Array): Uint8Array {
  // The snapshot of the values (taken before any program runs). Safe integers are
  // written as two 32-bit halves: no BigInt, DataView or closure per event.
  const b = into ?? new Uint8Array(vals.length * 8);
  const w = into ? poolWords : new Int32Array(b.buffer);
  let v: DataView | undefined = into ? poolView : undefined;
  for (let i = 0; i < vals.length; i++) {
    const x = vals[i]!;
    if (LE && typeof x === 'number' && Number.isSafeInteger(x)) {
      const hi = Math.floor(x / 4294967296);
      w[2 * i] = x - hi * 4294967296;
      w[2 * i + 1] = hi;
    } else (v ??= new DataView(b.buffer)).setBigUint64(i * 8, typeof x === 'bigint' ? x : BigInt(x), true);
  }
  return b;
}
/** Host byte order is little-endian (Int32Array stores then match the little-endian u64 layout). */
const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The tracepoint a section name designates: `tracepoint/node/<name>`, `tp/app/<name>`; undefined for other sections. */
export function tracepointOfSection(section: string): Tracepoint | undefined {
  const m = /^(?:tracepoint|tp)\/([^/]+)\/([^/]+)$/.exec(section);
  return m ? tracepoint(m[1]!, m[2]!) : undefined;
}

/**
 * libbpf's bpf_program__attach for tracepoints: attach where the program's section says.
 * @deprecated use `program.attach(sectionHook(program))`.
 */
export function attachTracepoint(p: Program): Link {
  const tp = tracepointOfSection(p.spec.section);
  if (!tp) throw new TsbpfError('EINVAL', `program ${p.name}: section ${p.spec.section} names no tracepoint (want tracepoint/<category>/<event>)`);
  return p.attach(tp);
}
