/**
 * The Debugger tab: tsbpf's Debugger over the interpreter, on the packet
 * of the Run tab: step, run to the cursor, continue to a breakpoint, with
 * the registers, the stack and the current instruction and C line marked.
 */
import { $, fill, h, kvTable } from './dom.js';
import type { PageHooks } from './hooks.js';
import type { DebugSession } from '../lib/session.js';
import { lineInfoAt } from '../lib/listing.js';
import { toHex } from '../lib/hex.js';
import { XDP_ACTIONS } from '../lib/session.js';

export class DebugPanel {
  readonly breakpoints = new Set<number>();
  private s: DebugSession | undefined;
  private prevRegs: bigint[] = [];

  constructor(private readonly page: PageHooks, private readonly packet: () => Uint8Array) {
    $('dbg-start').addEventListener('click', () => this.start());
    $('dbg-step').addEventListener('click', () => this.act((d) => d.step()));
    $('dbg-continue').addEventListener('click', () => this.act((d) => d.continue()));
    $('dbg-cursor').addEventListener('click', () => {
      const slot = this.page.cursorSlot();
      if (slot === undefined) return this.page.status('put the cursor on an instruction first');
      // Run to a line: a breakpoint that lasts one continue (unless the user set one there).
      this.act((d) => {
        const temp = !this.breakpoints.has(slot);
        if (temp) d.setBreakpoint(slot);
        d.continue();
        if (temp && !d.done) d.clearBreakpoint(slot);
      });
    });
    $('dbg-bp').addEventListener('click', () => this.toggleBreakpoint(this.page.cursorSlot()));
  }

  /** The slot the debugger stopped at, while a session is open and not done. */
  get pc(): number | undefined {
    return this.s && !this.s.dbg.done ? this.s.dbg.pc : undefined;
  }

  toggleBreakpoint(slot: number | undefined): void {
    if (slot === undefined) return;
    if (this.breakpoints.has(slot)) this.breakpoints.delete(slot);
    else this.breakpoints.add(slot);
    if (this.s && !this.s.dbg.done) {
      try {
        if (this.breakpoints.has(slot)) this.s.dbg.setBreakpoint(slot);
        else this.s.dbg.clearBreakpoint(slot);
      } catch (e) {
        this.breakpoints.delete(slot);
        this.page.status((e as Error).message);
      }
    }
    this.page.status(`breakpoints: ${[...this.breakpoints].sort((a, b) => a - b).join(', ') || 'none'}`);
    this.page.refreshMarks();
  }

  stop(): void {
    this.s?.close();
    this.s = undefined;
    this.buttons(false);
  }

  private buttons(on: boolean): void {
    for (const id of ['dbg-step', 'dbg-cursor', 'dbg-continue']) ($(id) as HTMLButtonElement).disabled = !on;
  }

  private start(): void {
    this.stop();
    const cur = this.page.current();
    if (!cur?.verdict?.ok) {
      $('dbg-status').textContent = 'The verifier has not accepted the program: it cannot run.';
      return;
    }
    try {
      this.s = this.page.session.debug(cur.program, this.packet());
      for (const bp of [...this.breakpoints]) {
        try { this.s.dbg.setBreakpoint(bp); } catch { this.breakpoints.delete(bp); }
      }
      this.prevRegs = this.s.dbg.registers();
      this.buttons(true);
      this.show('started');
    } catch (e) {
      $('dbg-status').textContent = (e as Error).message;
    }
  }

  private act(f: (d: DebugSession['dbg']) => unknown): void {
    if (!this.s || this.s.dbg.done) return;
    this.prevRegs = this.s.dbg.registers();
    try {
      f(this.s.dbg);
    } catch (e) {
      this.page.status((e as Error).message);
    }
    this.show();
  }

  private show(what?: string): void {
    const s = this.s;
    if (!s) return;
    const d = s.dbg;
    const stop = d.lastStop;
    const cur = this.page.current();
    const li = cur?.spec ? lineInfoAt(cur.spec.lineInfo, d.pc) : undefined;
    let text: string;
    if (stop?.reason === 'exit') {
      const r0 = Number(stop.r0! & 0xffffffffn);
      text = `exited: r0 = ${r0}${XDP_ACTIONS[r0] ? ` (${XDP_ACTIONS[r0]})` : ''} after ${d.steps} instructions`;
    } else if (stop?.reason === 'fault' || stop?.reason === 'budget') text = `stopped: ${stop.error?.message ?? stop.reason}`;
    else text = `${what ?? stop?.reason ?? 'stopped'} at insn ${d.pc}${d.depth ? ` (frame ${d.depth})` : ''}${li ? `, ${li.fileName}:${li.lineNum}: ${li.line.trim()}` : ''} · ${d.steps} executed`;
    $('dbg-status').textContent = text;
    if (d.done) this.buttons(false);
    const regs = d.registers();
    const changed = new Set(regs.flatMap((v, i) => (v !== this.prevRegs[i] ? [`r${i}`] : [])));
    const rows: Array<[string, string]> = regs.map((v, i) => [`r${i}`, `0x${v.toString(16)}${v < 1n << 32n ? ` (${v})` : ''}`]);
    const stack = d.stack();
    const fp = d.framePointer();
    const stackRows: Array<[string, string]> = [];
    // Only the used part of the frame: 8-byte slots from fp-8 down while any byte below is non-zero.
    let lowest = stack.length;
    for (let i = 0; i < stack.length; i++) if (stack[i] !== 0) { lowest = i; break; }
    for (let off = stack.length - 8; off >= Math.min(lowest - (lowest % 8), stack.length - 8); off -= 8) stackRows.push([`fp-${stack.length - off}`, toHex(stack.subarray(off, off + 8))]);
    fill($('dbg-state'),
      h('div', { class: 'state' }, kvTable(rows, 'Registers (changed by the last step marked)', changed),
        kvTable(stackRows, `Stack (r10 = 0x${fp.toString(16)}; the used part)`)),
      d.done && stop?.reason === 'exit' ? h('p', {}, h('strong', {}, 'Packet out: '), h('code', {}, toHex(s.packetOut() ?? new Uint8Array(0)))) : null,
    );
    this.page.refreshMarks();
  }
}
