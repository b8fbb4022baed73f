/** Hook points of a Node.js application (Node only): links, tracepoints, probes, packet and policy hooks, event streams. */
export { Link, HookPoint, attach, type Attachable } from './link.js';
export { tracepoint, appTracepoint, AppTracepoint, Tracepoint, attachTracepoint, tracepointOfSection, builtinTracepoints } from './tracepoint.js';
export { uprobe, uretprobe, funcIp, attachUprobe, enableProbeHelpers, getFuncIp, PT_REGS } from './uprobe.js';
export { ringbufRecords, consumeRingbuf, PerfReader, TracePipe, formatTraceLine, type Consumer } from './streams.js';
export { sectionHook } from './section.js';
export { fileOpenHook, socketConnectHook, taskSpawnHook, attachPolicy, policyHookOfSection, PolicyHook } from './lsm.js';
export { dgramXdp, attachXdpToSocket, DgramXdpHook } from './packet/dgram.js';
export { runXdp, XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT, XDP_ACTION_NAMES, type XdpVerdict } from './packet/xdp.js';
export { readCapture, PcapWriter, LINKTYPE_ETHERNET, type CapturedPacket } from './packet/pcap.js';
export { buildUdpFrame, parseUdpFrame, type UdpDatagram } from './packet/frame.js';
export { formatLog2Hist, formatCounts, histSlots, log2Slot, log2Label } from './print.js';
export { socketFilter, SocketFilterHook } from './packet/socket-filter.js';
export { TapDevice, type TapOptions, type TapStats } from './packet/tap.js';
export { tapXdp, TapXdpHook, type TapXdpOptions, type TapXdpStats, type PassTarget } from './packet/tap-xdp.js';
