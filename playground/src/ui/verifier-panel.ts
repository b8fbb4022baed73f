/** The Verifier tab: the verdict with tsbpf's explanation, and the state at an instruction. */
import { fill, h, kvTable } from './dom.js';
import type { Verdict } from '../lib/session.js';
import { pathInsns, type InsnVisit } from '../lib/verifier-log.js';

export interface VerdictLinks {
  goToInsn(slot: number): void;
  goToLine(line: number): void;
}

export function renderVerdict(el: HTMLElement, v: Verdict, links: VerdictLinks): void {
  if (v.ok) {
    fill(el, h('p', { class: 'verdict ok', id: 'verdict-text' }, `✓ ${v.program}: accepted by the verifier`),
      h('p', {}, 'Move the cursor in the assembly (or point at an instruction) to see the registers and stack the verifier proved there.'));
    return;
  }
  const e = v.error;
  if (!e) {
    fill(el, h('p', { class: 'verdict bad', id: 'verdict-text' }, `✗ ${v.program}: refused: ${v.message ?? ''}`));
    return;
  }
  const src = e.sourceLine;
  const path = pathInsns(e.path);
  fill(el, 
    h('p', { class: 'verdict bad', id: 'verdict-text' }, `✗ ${v.program}: rejected (${e.errno})`),
    h('p', { class: 'rule' }, e.rule),
    src ? h('p', { class: 'where' }, h('button', { type: 'button', class: 'link', id: 'reject-line', onclick: () => links.goToLine(src.line) }, `${src.file}:${src.line}:${src.column}`),
      src.text ? h('code', {}, ` ${src.text.trim()}`) : null) : null,
    h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => links.goToInsn(e.insnIndex) }, `insn ${e.insnText ?? e.insnIndex}`)),
    e.registers.length ? h('ul', { class: 'regs' }, ...e.registers.map((r) => h('li', {}, h('code', {}, r)))) : null,
    e.hint ? h('p', { class: 'hint' }, h('strong', {}, 'Hint: '), e.hint) : null,
    e.path.length ? h('div', {}, h('h3', {}, 'Path to the rejection'),
      h('ol', { class: 'path' }, ...e.path.map((p, i) => h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => links.goToInsn(path[i] ?? e.insnIndex) }, p))))) : null,
    h('p', { class: 'kernel' }, h('strong', {}, 'Linux says: '), h('code', {}, e.kernelMessage)),
  );
}

function stateBlock(v: InsnVisit, which: 'before' | 'after'): HTMLElement {
  const s = v[which];
  const other = v[which === 'before' ? 'after' : 'before'];
  const changed = new Set([...s.regs, ...s.stack].filter(([k, val]) => [...other.regs, ...other.stack].find(([k2]) => k2 === k)?.[1] !== val).map(([k]) => k));
  return h('div', { class: 'state' },
    kvTable(s.regs, `${which === 'before' ? 'Before' : 'After'}${s.frame ? ` (frame ${s.frame})` : ''}: registers`, which === 'after' ? changed : undefined),
    s.stack.length ? kvTable(s.stack, 'stack', which === 'after' ? changed : undefined) : null);
}

/** The verifier's states at `slot`: each time it walked it, before and after. */
export function renderInsnState(el: HTMLElement, slot: number | undefined, v: Verdict | undefined): void {
  if (slot === undefined || !v) {
    fill(el, );
    return;
  }
  const visits = v.visits.get(slot) ?? [];
  if (!visits.length) {
    fill(el, h('p', { class: 'muted' }, `insn ${slot}: the verifier did not reach it${v.ok ? ' (dead code, or pruned into an equal state)' : ''}.`));
    return;
  }
  const shown = visits.slice(-4);
  fill(el, h('h3', { id: 'insn-state-title' }, `State at insn ${slot} (${visits.length} visit${visits.length > 1 ? 's' : ''}${visits.length > shown.length ? `, last ${shown.length} shown` : ''})`),
    ...shown.map((vis, i) => h('div', { class: 'visit' }, shown.length > 1 ? h('p', { class: 'muted' }, `visit ${visits.length - shown.length + i + 1}`) : null, stateBlock(vis, 'before'), stateBlock(vis, 'after'))));
}

/** The hover tooltip: the last state the verifier had after the instruction. */
export function stateTooltip(slot: number, v: Verdict | undefined): HTMLElement | null {
  const visits = v?.visits.get(slot);
  const last = visits?.[visits.length - 1];
  if (!last) return null;
  const s = last.after;
  return h('div', { class: 'tip' }, h('strong', {}, `insn ${slot}${visits!.length > 1 ? ` (${visits!.length} visits, last)` : ''}`),
    h('div', {}, ...[...s.regs, ...s.stack].map(([k, val]) => h('div', {}, h('code', {}, `${k}=${val}`)))));
}
