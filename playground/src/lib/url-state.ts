/**
 * The shareable URL: everything a person set up (the example or the
 * uploaded object, the program, the edited assembly, the packet and the map
 * edits) in the fragment, so a link restores it and nothing goes to a
 * server. JSON, compressed with deflate-raw (CompressionStream, in browsers
 * and Node), base64url: `#s=<text>`. Reading is defensive: a link someone
 * typed wrong gives the defaults and a reason, never an exception.
 */
import { DEFAULT_PACKET, type PacketSpec } from './packet.js';
import { fromBase64Url, toBase64Url } from './hex.js';

export interface MapEdit {
  map: string;
  /** key as hex */
  key: string;
  /** value as hex; absent: delete the key */
  value?: string;
}

export interface PlaygroundState {
  /** example id; '' when the program is an upload or typed from scratch */
  example: string;
  /** the program chosen in the object */
  program?: string;
  /** the assembly, when edited */
  asm?: string;
  /** an uploaded object file (base64url) */
  object?: string;
  objectName?: string;
  input: 'builder' | 'hex';
  packet: PacketSpec;
  hex: string;
  repeat: number;
  mapEdits: MapEdit[];
}

export const DEFAULT_STATE: PlaygroundState = {
  example: 'xdp_firewall',
  input: 'builder',
  packet: DEFAULT_PACKET,
  hex: '',
  repeat: 1000,
  mapEdits: [],
};

const PREFIX = '#s=';

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** The fragment for a state (with the leading `#`). */
export async function encodeState(s: PlaygroundState): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(s));
  return PREFIX + toBase64Url(await pipe(json, new CompressionStream('deflate-raw')));
}

const str = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);
const int = (v: unknown, d: number, lo: number, hi: number): number => (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : d);

function packetOf(v: unknown): PacketSpec {
  const p = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  const d = DEFAULT_PACKET;
  return {
    ethSrc: str(p['ethSrc'], d.ethSrc),
    ethDst: str(p['ethDst'], d.ethDst),
    l3: p['l3'] === 'ipv6' || p['l3'] === 'none' || p['l3'] === 'ipv4' ? p['l3'] : d.l3,
    ethType: int(p['ethType'], d.ethType, 0, 0xffff),
    src: str(p['src'], d.src),
    dst: str(p['dst'], d.dst),
    ttl: int(p['ttl'], d.ttl, 0, 255),
    l4: p['l4'] === 'tcp' || p['l4'] === 'none' || p['l4'] === 'udp' ? p['l4'] : d.l4,
    proto: int(p['proto'], d.proto, 0, 255),
    sport: int(p['sport'], d.sport, 0, 0xffff),
    dport: int(p['dport'], d.dport, 0, 0xffff),
    tcpFlags: str(p['tcpFlags'], d.tcpFlags),
    seq: int(p['seq'], d.seq, 0, 0xffffffff),
    payload: str(p['payload'], d.payload),
  };
}

/** Every field checked and defaulted: a state the page can use as it is. */
export function normalizeState(v: unknown): PlaygroundState {
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  const s: PlaygroundState = {
    example: str(o['example'], DEFAULT_STATE.example),
    input: o['input'] === 'hex' ? 'hex' : 'builder',
    packet: packetOf(o['packet']),
    hex: str(o['hex'], ''),
    repeat: int(o['repeat'], DEFAULT_STATE.repeat, 1, 1_000_000),
    mapEdits: Array.isArray(o['mapEdits'])
      ? o['mapEdits'].flatMap((e: unknown): MapEdit[] => {
          const r = (e && typeof e === 'object' ? e : {}) as Record<string, unknown>;
          if (typeof r['map'] !== 'string' || typeof r['key'] !== 'string') return [];
          return [typeof r['value'] === 'string' ? { map: r['map'], key: r['key'], value: r['value'] } : { map: r['map'], key: r['key'] }];
        })
      : [],
  };
  for (const k of ['program', 'asm', 'object', 'objectName'] as const) if (typeof o[k] === 'string') s[k] = o[k];
  return s;
}

/** The state a fragment describes: { state } or, when it cannot be read, the defaults and why. */
export async function decodeState(hash: string): Promise<{ state: PlaygroundState; error?: string }> {
  if (!hash.startsWith(PREFIX)) return { state: normalizeState({}), ...(hash && hash !== '#' ? { error: 'the link does not hold a playground state' } : {}) };
  try {
    const bytes = await pipe(fromBase64Url(hash.slice(PREFIX.length)), new DecompressionStream('deflate-raw'));
    return { state: normalizeState(JSON.parse(new TextDecoder().decode(bytes))) };
  } catch (e) {
    return { state: normalizeState({}), error: `the link's state is damaged (${(e as Error).message})` };
  }
}
