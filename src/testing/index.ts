/**
 * tsbpf/testing: run tracing programs under test, with a kernel made of BTF
 * (docs/testing.md). For the user's own test runner: node:test, Vitest and
 * Jest alike.
 */
export { TestKit, canonicalSection, iterTarget, type TestKitOptions, type FireOptions, type FireResult, type RecordedCall, type IterateOptions, type IterateResult } from './kit.js';
export { SEQ_BUF_SIZE, KIT_ITER_TARGETS, type TaskIterLinkInfo } from './iter.js';
export { KernelModel, KernelObject, type FieldValue, type ObjectInit } from './model.js';
export { shippedKernelBtf, SHIPPED_KERNEL_VERSION } from './kernel-btf.js';
export { buildContext, eventKind, type ContextOptions, type TracingEvent, type ArgValue, type EventKind } from './events.js';
export { parseFormat, formatRecord, type TraceFormat, type FormatField } from './tracefs-format.js';
export { REGS, type Arch, type RegsLayout } from './regs.js';
export { ethernet, ipv4, ipv6, tcp, udp, mac, ip4, ip6, inetChecksum, ethernetHeader, ETH_P_IP, ETH_P_IPV6, IPPROTO_TCP, IPPROTO_UDP, type Segment, type L3Packet } from './packets.js';
