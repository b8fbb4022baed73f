/**
 * XDP test run, as net/bpf/test_run.c bpf_prog_test_run_xdp builds it:
 * one page per frame, XDP_PACKET_HEADROOM (256) bytes of headroom — less
 * the metadata the context asks for — then the packet, and the
 * skb_shared_info tailroom (320 bytes) at the end that xdp_adjust_tail may
 * not grow into. Bytes beyond what fits (more than 3520) go to fragments the
 * program does not see and that are appended to the output, as with the
 * kernel's multi-buffer frames. The output starts at data_meta.
 */
import { XDP_MD } from '../../uapi/ctx.js';
import { XDP_FRAME_SIZE, metalenInvalid } from '../../helpers/xdp.js';
import type { XdpPacket } from '../../helpers/env.js';
import type { AddressSpace } from '../../memory/address-space.js';
import type { NetDevice } from '../netdev.js';
import {
  BPF_F_TEST_XDP_LIVE_FRAMES, ETH_HLEN, MAX_SKB_FRAGS, PAGE_SIZE, SKB_SHINFO_SIZE, TestRunError, XDP_PACKET_HEADROOM,
  type TestRunOptions, type TestRunResult,
} from './types.js';
import type { PreparedRun } from './run.js';

export function prepareXdp(space: AddressSpace, opts: TestRunOptions, devices: ReadonlyMap<number, NetDevice>, expectedAttachType?: string): PreparedRun {
  if (expectedAttachType === 'xdp_devmap' || expectedAttachType === 'xdp_cpumap') throw new TestRunError('EINVAL', 'devmap/cpumap XDP programs cannot be test-run');
  const flags = opts.flags ?? 0;
  if (flags & ~BPF_F_TEST_XDP_LIVE_FRAMES) throw new TestRunError('EINVAL', `unknown flags 0x${flags.toString(16)}`);
  if (flags & BPF_F_TEST_XDP_LIVE_FRAMES) throw new TestRunError('EOPNOTSUPP', 'live-frame mode needs real devices');
  // test.cpu is not checked for XDP (bpf_prog_test_run_xdp ignores it); the run is on CPU 0.
  const data = opts.data ?? new Uint8Array(0);
  const sizeIn = data.length;
  let headroom = XDP_PACKET_HEADROOM;
  let linear = sizeIn;
  let metaSz = 0;
  let ctxIn: Uint8Array | undefined;
  if (opts.ctx) {
    ctxIn = ctxInit(opts.ctx, XDP_MD.size);
    const dv = new DataView(ctxIn.buffer, ctxIn.byteOffset, ctxIn.byteLength);
    const cData = dv.getUint32(XDP_MD.data, true);
    const cEnd = dv.getUint32(XDP_MD.data_end, true);
    const cMeta = dv.getUint32(XDP_MD.data_meta, true);
    // There can't be user data before the metadata, nor bounds past the input.
    if (cMeta || cEnd > sizeIn || cData > cEnd) throw new TestRunError('EINVAL', 'xdp_md data/data_end/data_meta do not describe the input');
    metaSz = cData;
    if (metalenInvalid(metaSz) || metaSz > headroom - XDP_FRAME_SIZE) throw new TestRunError('EINVAL', `metadata size ${metaSz} is not a multiple of 4 up to 252`);
    headroom -= metaSz;
    linear = cEnd;
  }
  const maxLinear = PAGE_SIZE - headroom - SKB_SHINFO_SIZE;
  linear = Math.min(linear, maxLinear);
  if (sizeIn - metaSz < ETH_HLEN) throw new TestRunError('EINVAL', `packet of ${sizeIn - metaSz} bytes is shorter than an Ethernet header`);
  const fragBytes = sizeIn - linear;
  if (fragBytes > MAX_SKB_FRAGS * PAGE_SIZE) throw new TestRunError('ENOMEM', 'packet needs more than MAX_SKB_FRAGS fragments');

  let ingress = 1;
  let rxQueue = 0;
  if (ctxIn) {
    const dv = new DataView(ctxIn.buffer, ctxIn.byteOffset, ctxIn.byteLength);
    if (dv.getUint32(XDP_MD.egress_ifindex, true) !== 0) throw new TestRunError('EINVAL', 'egress_ifindex must be 0');
    const ing = dv.getUint32(XDP_MD.ingress_ifindex, true);
    const q = dv.getUint32(XDP_MD.rx_queue_index, true);
    if (!ing && q) throw new TestRunError('EINVAL', 'rx_queue_index without ingress_ifindex');
    if (ing) {
      const dev = devices.get(ing);
      if (!dev) throw new TestRunError('ENODEV', `no device with ifindex ${ing}`);
      if (q >= dev.rxQueues) throw new TestRunError('EINVAL', `${dev.name} has ${dev.rxQueues} rx queue(s), not ${q + 1}`);
      ingress = ing;
      rxQueue = q;
    }
  }

  // Frame: data_hard_start at a page; the packet (with metadata) at hard_start + headroom.
  const frame = space.alloc(PAGE_SIZE, PAGE_SIZE);
  const ctx = space.alloc(XDP_MD.size);
  const region = space.addRegion({ base: frame, size: PAGE_SIZE - SKB_SHINFO_SIZE, kind: 'packet', name: 'xdp frame', writable: true });
  const ctxRegion = space.addRegion({ base: ctx, size: XDP_MD.size, kind: 'ctx', name: 'xdp_md', writable: false });
  const dataMeta = frame + headroom;
  space.write(dataMeta, data.subarray(0, linear));
  space.writeU32(ctx + XDP_MD.data, dataMeta + metaSz);
  space.writeU32(ctx + XDP_MD.data_end, dataMeta + linear);
  space.writeU32(ctx + XDP_MD.data_meta, dataMeta);
  space.writeU32(ctx + XDP_MD.ingress_ifindex, ingress);
  space.writeU32(ctx + XDP_MD.rx_queue_index, rxQueue);
  space.writeU32(ctx + XDP_MD.egress_ifindex, 0);
  // The rest of the input in page-sized fragments, as the kernel fills them.
  const frags: Array<{ page: Uint8Array; size: number }> = [];
  for (let off = linear; off < sizeIn; off += PAGE_SIZE) {
    const page = new Uint8Array(PAGE_SIZE);
    const chunk = data.subarray(off, Math.min(sizeIn, off + PAGE_SIZE));
    page.set(chunk);
    frags.push({ page, size: chunk.length });
  }
  const packet: XdpPacket = { kind: 'xdp', ctx, hardStart: frame, frameSize: PAGE_SIZE, tailroom: SKB_SHINFO_SIZE, frags };

  return {
    ctx,
    packet,
    finish(retval: number, duration: number): TestRunResult {
      const d = space.readU32(ctx + XDP_MD.data);
      const end = space.readU32(ctx + XDP_MD.data_end);
      const meta = space.readU32(ctx + XDP_MD.data_meta);
      const fragBytes = frags.reduce((n, f) => n + f.size, 0);
      const out = new Uint8Array(end - meta + fragBytes);
      out.set(space.bytes(meta, end - meta));
      let o = end - meta;
      for (const f of frags) {
        out.set(f.page.subarray(0, f.size), o);
        o += f.size;
      }
      let ctxOut: Uint8Array | undefined;
      if (ctxIn) {
        // xdp_convert_buff_to_md: offsets relative to data_meta; the rest as given.
        ctxOut = ctxIn.slice();
        const dv = new DataView(ctxOut.buffer);
        dv.setUint32(XDP_MD.data, d - meta, true);
        dv.setUint32(XDP_MD.data_end, end - meta, true);
      }
      return { retval, data: out, ...(ctxOut ? { ctx: ctxOut } : {}), duration };
    },
    release(): void {
      space.removeRegion(region);
      space.removeRegion(ctxRegion);
      space.free(frame);
      space.free(ctx);
    },
  };
}

/**
 * bpf_ctx_init: a struct of `max` bytes from ctx_in; a longer input must be
 * zero past the struct (bpf_check_uarg_tail_zero, else E2BIG).
 */
export function ctxInit(ctx: Uint8Array, max: number): Uint8Array {
  for (let i = max; i < ctx.length; i++) if (ctx[i] !== 0) throw new TestRunError('E2BIG', `ctx_in has non-zero bytes past the ${max}-byte struct`);
  const out = new Uint8Array(max);
  out.set(ctx.subarray(0, max));
  return out;
}
