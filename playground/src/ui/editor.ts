/**
 * The assembly editor: CodeMirror 6 with line marks the page sets (the
 * instructions of the chosen C line, the rejected instruction and the path
 * to it, the debugger's current instruction, breakpoints) and a hover
 * tooltip that shows the verifier's state at the instruction under the
 * pointer.
 */
import {
  Decoration, EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, hoverTooltip, keymap, lineNumbers, type DecorationSet,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { bpfAsm } from './asm-language.js';
import { Annotation, EditorState, StateEffect, StateField, RangeSetBuilder, type Extension } from '@codemirror/state';

/** Marks a change the page made itself (a new example, a restored link): not an edit to verify again. */
const fromPage = Annotation.define<boolean>();

export type LineMarks = Map<number, string[]>;

const setMarks = StateEffect.define<LineMarks>();

const marksField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setMarks)) continue;
      const b = new RangeSetBuilder<Decoration>();
      const lines = [...e.value.keys()].filter((n) => n >= 1 && n <= tr.state.doc.lines).sort((a, b) => a - b);
      for (const n of lines) {
        const line = tr.state.doc.line(n);
        b.add(line.from, line.from, Decoration.line({ class: e.value.get(n)!.join(' ') }));
      }
      deco = b.finish();
    }
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export interface EditorHooks {
  onChange(text: string): void;
  /** the cursor moved to 1-based line `line` */
  onCursor(line: number): void;
  /** tooltip content for 1-based line `line`, or null */
  hover(line: number): HTMLElement | null;
  /** keyboard: toggle a breakpoint on the cursor line */
  onToggleBreakpoint(line: number): void;
}

export function createEditor(parent: HTMLElement, doc: string, hooks: EditorHooks, label: string): EditorView {
  const tooltip = hoverTooltip((view, pos) => {
    const line = view.state.doc.lineAt(pos);
    const dom = hooks.hover(line.number);
    return dom ? { pos: line.from, end: line.to, above: true, create: () => ({ dom }) } : null;
  });
  const extensions: Extension[] = [
    // A small setup (not basicSetup: no completion, folding or lint to download): the page loads faster.
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightActiveLine(),
    drawSelection(),
    history(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    keymap.of([...defaultKeymap, ...historyKeymap]),
    bpfAsm,
    marksField,
    EditorView.lineWrapping,
    tooltip,
    keymap.of([{ key: 'F9', run: (v) => (hooks.onToggleBreakpoint(v.state.doc.lineAt(v.state.selection.main.head).number), true) }]),
    EditorView.contentAttributes.of({ 'aria-label': label }),
    EditorView.updateListener.of((u) => {
      // Only a person's edit is verified again; the page verifies what it puts in itself.
      if (u.docChanged && !u.transactions.some((tr) => tr.annotation(fromPage))) hooks.onChange(u.state.doc.toString());
      if (u.selectionSet || u.docChanged) hooks.onCursor(u.state.doc.lineAt(u.state.selection.main.head).number);
    }),
  ];
  return new EditorView({ parent, state: EditorState.create({ doc, extensions }) });
}

export function replaceDoc(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, selection: { anchor: 0 }, annotations: fromPage.of(true) });
}

export function markLines(view: EditorView, marks: LineMarks): void {
  view.dispatch({ effects: setMarks.of(marks) });
}

export function scrollToLine(view: EditorView, line: number): void {
  if (line < 1 || line > view.state.doc.lines) return;
  view.dispatch({ effects: EditorView.scrollIntoView(view.state.doc.line(line).from, { y: 'center' }) });
}

export function cursorLine(view: EditorView): number {
  return view.state.doc.lineAt(view.state.selection.main.head).number;
}
