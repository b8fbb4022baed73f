/**
 * `tsbpf xdp FILE PROG --pcap IN [--write OUT] [-j]`: run an xdp program on
 * every packet of a pcap or pcapng capture (Ethernet link type), write the
 * packets it passes — as it left them — to OUT (pcap), and print the count
 * of each action. Long captures show progress on stderr when it is a TTY.
 * The program's maps keep their state across the packets, as on a NIC.
 */
import { TsbpfError } from '../../errors.js';
import { CliUsageError, JSON_OPTS, parse, type OptionSpec, jsonText } from '../args.js';
import { MAGIC, readBounded, writeOutput } from '../../bounded-read.js';
import { progress } from '../progress.js';
import { Runtime } from '../../runtime/runtime.js';
import { loadCollectionFile } from '../../runtime/node.js';
import { LINKTYPE_ETHERNET, PcapWriter, readCapture } from '../../hooks/packet/pcap.js';
import { runXdp, XDP_ACTION_NAMES, XDP_PASS } from '../../hooks/packet/xdp.js';
import { TapDevice } from '../../hooks/packet/tap.js';
import { tapXdp } from '../../hooks/packet/tap-xdp.js';
import { KERNEL_BTF_OPTION, KERNEL_BTF_USAGE, kernelBtfOption } from '../btf-input.js';

export const options: OptionSpec = {
  ...JSON_OPTS,
  pcap: { type: 'string' },
  write: { type: 'string', short: 'w' },
  tap: { type: 'string' },
  netns: { type: 'string' },
  'pass-to': { type: 'string' },
  'pass-netns': { type: 'string' },
  frames: { type: 'string' },
  duration: { type: 'string' },
  ...KERNEL_BTF_OPTION,
};

export const usage = `Usage: tsbpf xdp FILE PROG --pcap IN [-w|--write OUT] [-j|-p]
       tsbpf xdp FILE PROG --tap NAME [--netns NS] [--pass-to NAME2 [--pass-netns NS2]]
                 [--frames N] [--duration SECONDS] [-j|-p]
  Run xdp program PROG of object FILE on every packet of IN (pcap or pcapng,
  at most 1 GiB), write the packets it passes (as modified) to OUT (pcap),
  print counts per action; a progress bar on a terminal.
  With --tap (Linux, root): create TAP device NAME (moved into namespace NS and
  brought up) and run PROG on every frame it carries, as on a NIC: XDP_TX
  answers on NAME, XDP_REDIRECT sends to the TAP the program names, XDP_PASS
  hands frames to TAP NAME2 (the host side; its frames go out through NAME).
  Runs until Ctrl-C, N frames or SECONDS, then prints counts per action.
${KERNEL_BTF_USAGE}`;

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  const [file, progName] = positionals;
  if (file && progName && positionals.length === 2 && values.tap !== undefined && values.pcap === undefined) return runTap(file, progName, values);
  const inPath = values.pcap as string | undefined;
  if (!file || !progName || positionals.length > 2) throw new CliUsageError('expected FILE PROG');
  if (!inPath || values.tap !== undefined) throw new CliUsageError('expected one of --pcap IN or --tap NAME');
  const bytes = readBounded(inPath, {
    kind: 'capture',
    magic: { prefixes: MAGIC.pcap, error: () => new TsbpfError('EINVAL', `${inPath}: not a pcap or pcapng capture`) },
  });
  const kernelBtf = kernelBtfOption(values);
  const rt = new Runtime(kernelBtf ? { kernelBtf } : {});
  try {
    const coll = await loadCollectionFile(file, rt, { programs: [progName] });
    const prog = coll.program(progName);
    if (prog.type !== 'xdp') throw new TsbpfError('EINVAL', `program ${progName} is ${prog.type}, not xdp`);
    const counts = [0, 0, 0, 0, 0];
    const out = values.write ? new PcapWriter(LINKTYPE_ETHERNET) : undefined;
    const bar = progress(`${progName}:`, bytes.length, { json: Boolean(values.json || values.pretty) });
    let packets = 0;
    let runts = 0;
    const t0 = performance.now();
    for (const pkt of readCapture(bytes)) {
      if (pkt.linkType !== LINKTYPE_ETHERNET) throw new TsbpfError('EINVAL', `${inPath}: packet ${packets + 1} has link type ${pkt.linkType}; xdp programs take Ethernet frames (link type 1)`);
      packets++;
      // A frame shorter than an Ethernet header never reaches XDP on a NIC (and BPF_PROG_TEST_RUN refuses it): counted, not run.
      if (pkt.data.length < 14) {
        runts++;
        continue;
      }
      const v = runXdp(prog, pkt.data);
      counts[v.action]!++;
      if (v.action === XDP_PASS && out) out.add(v.data, pkt.tsNs, pkt.origLen - pkt.data.length + v.data.length);
      if ((packets & 1023) === 0) bar.update(pkt.data.byteOffset - bytes.byteOffset, `bytes, ${packets} packets`);
    }
    bar.end();
    const ms = performance.now() - t0;
    if (out) writeOutput(values.write as string, out.bytes());
    if (values.json) {
      const actions: Record<string, number> = {};
      XDP_ACTION_NAMES.forEach((n, i) => (actions[n] = counts[i]!));
      process.stdout.write(jsonText({ packets, actions, runts, written: out?.count ?? 0, ms: Math.round(ms) }, values.pretty));
    } else {
      process.stdout.write(`${packets} packets through ${progName} in ${ms.toFixed(0)} ms\n`);
      XDP_ACTION_NAMES.forEach((n, i) => process.stdout.write(`${n.padEnd(14)}${String(counts[i]).padStart(10)}\n`));
      if (runts) process.stdout.write(`${runts} frames shorter than an Ethernet header were not run\n`);
      if (out) process.stdout.write(`wrote ${out.count} packets to ${values.write as string}\n`);
    }
    return 0;
  } finally {
    rt.close();
  }
}

/** `--tap`: an XDP NIC on a TAP device, until a signal, --frames or --duration. */
async function runTap(file: string, progName: string, values: Record<string, string | boolean | undefined>): Promise<number> {
  const num = (k: string): number | undefined => {
    const v = values[k];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0) throw new CliUsageError(`--${k} wants a positive number`);
    return n;
  };
  const maxFrames = num('frames');
  const seconds = num('duration');
  if (values['pass-netns'] !== undefined && values['pass-to'] === undefined) throw new CliUsageError('--pass-netns needs --pass-to');
  const devs: TapDevice[] = [];
  const kernelBtf = kernelBtfOption(values);
  const rt = new Runtime(kernelBtf ? { kernelBtf } : {});
  try {
    const open = (name: string, netns: string | boolean | undefined): TapDevice => {
      const t = TapDevice.open({ name, up: true, ...(typeof netns === 'string' ? { netns } : {}) });
      devs.push(t);
      rt.devices.set(t.ifindex, t);
      return t;
    };
    const tap = open(values.tap as string, values.netns);
    const host = values['pass-to'] !== undefined ? open(values['pass-to'] as string, values['pass-netns']) : undefined;
    const coll = await loadCollectionFile(file, rt, { programs: [progName] });
    const prog = coll.program(progName);
    if (prog.type !== 'xdp') throw new TsbpfError('EINVAL', `program ${progName} is ${prog.type}, not xdp`);
    const nic = tapXdp(tap, host ? { pass: host } : {});
    const link = prog.attach(nic);
    if (!values.json) process.stderr.write(`${progName} on ${tap.name} (ifindex ${tap.ifindex}${tap.netns ? `, netns ${tap.netns}` : ''})${host ? `, passing to ${host.name}` : ''}; Ctrl-C to stop\n`);
    const t0 = performance.now();
    let frames = 0;
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        if (timer) clearTimeout(timer);
        nic.onFrame = undefined;
        resolve();
      };
      const timer = seconds !== undefined ? setTimeout(stop, seconds * 1000) : undefined;
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      nic.onFrame = () => {
        if (maxFrames !== undefined && ++frames >= maxFrames) stop();
      };
    });
    const ms = performance.now() - t0;
    link.detach();
    nic.close();
    const s = nic.stats;
    const total = s.actions.reduce((a, b) => a + b, 0);
    if (values.json) {
      const actions: Record<string, number> = {};
      XDP_ACTION_NAMES.forEach((n, i) => (actions[n] = s.actions[i]!));
      const out = { device: tap.name, ifindex: tap.ifindex, frames: total, actions, exceptions: s.exceptions, redirect_errors: s.redirectErrors, pass_dropped: s.passDropped, ms: Math.round(ms) };
      process.stdout.write(jsonText(out, values.pretty));
    } else {
      process.stdout.write(`${total} frames through ${progName} on ${tap.name} in ${ms.toFixed(0)} ms\n`);
      XDP_ACTION_NAMES.forEach((n, i) => process.stdout.write(`${n.padEnd(14)}${String(s.actions[i]).padStart(10)}\n`));
      if (s.redirectErrors) process.stdout.write(`${s.redirectErrors} redirected frames had no TAP to go to\n`);
      if (s.passDropped) process.stdout.write(`${s.passDropped} passed frames had no host side (--pass-to)\n`);
    }
    return 0;
  } finally {
    for (const d of devs) d.close();
    rt.close();
  }
}
