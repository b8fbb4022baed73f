/**
 * The C source, one row per line. Clicking a line (or moving with the arrow
 * keys when the list has focus) chooses it, and the page marks its
 * instructions in the assembly. Without the C file (an uploaded object) the
 * lines come from BTF line_info, which carries their text.
 */
import { h } from './dom.js';
import type { ProgramSpec } from 'tsbpf/core';

export class SourceView {
  selected: number | undefined;
  private rows = new Map<number, HTMLElement>();

  constructor(private readonly el: HTMLElement, private readonly onSelect: (line: number) => void) {
    el.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
      e.preventDefault();
      const lines = [...this.rows.keys()].sort((a, b) => a - b);
      const at = this.selected === undefined ? -1 : lines.indexOf(this.selected);
      const next = lines[Math.max(0, Math.min(lines.length - 1, at + (e.key === 'ArrowDown' ? 1 : -1)))];
      if (next !== undefined) this.highlight(next, true);
    });
  }

  setSource(text: string | undefined, lineInfo: ProgramSpec['lineInfo']): void {
    this.rows.clear();
    this.selected = undefined;
    const lines = new Map<number, string>();
    if (text !== undefined) text.split('\n').forEach((l, i) => lines.set(i + 1, l));
    else for (const li of lineInfo ?? []) lines.set(li.lineNum, li.line);
    const withCode = new Set((lineInfo ?? []).map((l) => l.lineNum));
    const rows: HTMLElement[] = [];
    let prev = 0;
    for (const n of [...lines.keys()].sort((a, b) => a - b)) {
      if (text === undefined && n > prev + 1 && prev) rows.push(h('div', { class: 'gap' }, '…'));
      prev = n;
      const row = h('div', { class: `cline${withCode.has(n) ? ' has-code' : ''}`, role: 'option', 'aria-selected': 'false', 'data-line': n, id: `c-${n}`, onclick: () => this.highlight(n, true) },
        h('span', { class: 'ln', 'aria-hidden': 'true' }, String(n)), lines.get(n) || ' ');
      this.rows.set(n, row);
      rows.push(row);
    }
    if (!rows.length) rows.push(h('p', { class: 'muted' }, 'No C source: the object has no BTF line info.'));
    this.el.replaceChildren(...rows);
  }

  /** Choose line `n`; `fromUser` tells the page to mark its instructions. */
  highlight(n: number, fromUser = false): void {
    if (this.selected !== undefined) this.rows.get(this.selected)?.setAttribute('aria-selected', 'false');
    this.selected = n;
    const row = this.rows.get(n);
    if (row) {
      row.setAttribute('aria-selected', 'true');
      this.el.setAttribute('aria-activedescendant', row.id);
      this.reveal(row);
    }
    if (fromUser) this.onSelect(n);
  }

  /** Mark the debugger's current line and the rejected line. */
  mark(m: { pc: number | undefined; reject: number | undefined }): void {
    for (const [n, row] of this.rows) {
      row.classList.toggle('pc', n === m.pc);
      row.classList.toggle('reject', n === m.reject);
    }
    const row = m.pc !== undefined ? this.rows.get(m.pc) : undefined;
    if (row) this.reveal(row);
  }

  /** Scroll the list (not the page) so that `row` is in view. */
  private reveal(row: HTMLElement): void {
    const el = this.el;
    if (row.offsetTop < el.scrollTop || row.offsetTop + row.offsetHeight > el.scrollTop + el.clientHeight) el.scrollTop = row.offsetTop - el.clientHeight / 2;
  }
}
