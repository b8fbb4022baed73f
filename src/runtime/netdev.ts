/**
 * The network devices a test run can name (ctx ifindex / ingress_ifindex).
 * The kernel resolves them in the caller's network namespace; tsbpf has the
 * loopback device, ifindex 1, with one RX queue, and whatever the host adds.
 */
export interface NetDevice {
  ifindex: number;
  name: string;
  rxQueues: number;
}

export const LOOPBACK: NetDevice = { ifindex: 1, name: 'lo', rxQueues: 1 };
