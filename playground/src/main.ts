/**
 * The playground page: picks an example (or an uploaded object, or a blank
 * program), shows its C source beside the assembly editor, verifies on
 * every edit, and drives the Verifier, Run, Debugger and JIT tabs. The
 * state worth sharing goes into the URL fragment (lib/url-state.ts).
 */
import { readObject, TsbpfError, type CollectionSpec, type ProgramSpec } from 'tsbpf/core';
import type { EditorView } from '@codemirror/view';
import { $, h } from './ui/dom.js';
import { createEditor, cursorLine, markLines, replaceDoc, scrollToLine, type LineMarks } from './ui/editor.js';
import { EXAMPLES, exampleById } from './lib/examples.js';
import { fromListing, lineInfoAt, scratchCollection, toListing, withProgram } from './lib/listing.js';
import { Session, type Verdict } from './lib/session.js';
import { DEFAULT_STATE, decodeState, encodeState, type PlaygroundState } from './lib/url-state.js';
import { fromBase64Url, toBase64Url } from './lib/hex.js';
import { renderVerdict, renderInsnState, stateTooltip } from './ui/verifier-panel.js';
import { RunPanel } from './ui/run-panel.js';
import { DebugPanel } from './ui/debug-panel.js';
import { setupTabs } from './ui/tabs.js';
import { SourceView } from './ui/source-view.js';

const sources = import.meta.glob('../examples/*.c', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
const objects = import.meta.glob('../examples/*.o', { query: '?url', import: 'default', eager: true }) as Record<string, string>;

/** Everything the page currently shows. */
export interface Current {
  coll: CollectionSpec;
  program: string;
  /** the original program (before edits) */
  orig: ProgramSpec;
  /** the program as edited, when it assembles */
  spec: ProgramSpec | undefined;
  /** 0-based editor line -> slot */
  slotOfLine: Map<number, number>;
  verdict: Verdict | undefined;
  cSource: string | undefined;
}

const session = new Session();
let state: PlaygroundState = { ...DEFAULT_STATE };
let cur: Current | undefined;
let editor: EditorView;
let loadSeq = 0;
let verifyTimer: ReturnType<typeof setTimeout> | undefined;
let sourceView: SourceView;
let run: RunPanel;
let debug: DebugPanel;

const status = (text: string): void => { $('status').textContent = text; };

function slotOfEditorLine(line: number): number | undefined {
  return cur?.slotOfLine.get(line - 1);
}

function editorLinesOfSlots(pred: (slot: number) => boolean): number[] {
  const out: number[] = [];
  for (const [line, slot] of cur?.slotOfLine ?? []) if (pred(slot)) out.push(line + 1);
  return out.sort((a, b) => a - b);
}

/** Recompute every mark in the editor and the source from the verdict, the C line chosen and the debugger. */
function refreshMarks(): void {
  const marks: LineMarks = new Map();
  const add = (line: number, cls: string): void => {
    marks.set(line, [...(marks.get(line) ?? []), cls]);
  };
  const spec = cur?.spec;
  const chosen = sourceView.selected;
  if (spec && chosen !== undefined) for (const l of editorLinesOfSlots((s) => lineInfoAt(spec.lineInfo, s)?.lineNum === chosen)) add(l, 'cm-linked');
  const v = cur?.verdict;
  if (v?.error && v.program === cur?.program) {
    for (const l of editorLinesOfSlots((s) => s === v.error!.insnIndex)) add(l, 'cm-reject');
    const path = new Set(v.error.path.map((p) => Number(/^(\d+):/.exec(p.trim())?.[1] ?? -1)));
    for (const l of editorLinesOfSlots((s) => path.has(s))) add(l, 'cm-path');
  }
  for (const bp of debug.breakpoints) for (const l of editorLinesOfSlots((s) => s === bp)) add(l, 'cm-bp');
  const pc = debug.pc;
  if (pc !== undefined) for (const l of editorLinesOfSlots((s) => s === pc)) add(l, 'cm-pc');
  markLines(editor, marks);
  const pcLine = pc !== undefined && spec ? lineInfoAt(spec.lineInfo, pc)?.lineNum : undefined;
  const rejLine = v?.error?.sourceLine?.line;
  sourceView.mark({ pc: pcLine, reject: v?.ok === false ? rejLine : undefined });
}

function onCursor(line: number): void {
  const slot = slotOfEditorLine(line);
  const spec = cur?.spec;
  if (slot === undefined || !spec) return;
  const li = lineInfoAt(spec.lineInfo, slot);
  if (li && li.lineNum !== sourceView.selected) {
    sourceView.highlight(li.lineNum);
    refreshMarks();
  }
  renderInsnState($('insn-state'), slot, cur?.verdict);
}

/** Assemble the editor text and verify it (debounced while typing). */
function scheduleVerify(text: string): void {
  if (verifyTimer) clearTimeout(verifyTimer);
  verifyTimer = setTimeout(() => void verifyText(text, true), 250);
}

async function verifyText(text: string, edited: boolean): Promise<void> {
  if (!cur) return;
  const seq = ++loadSeq;
  debug.stop();
  try {
    const parsed = fromListing(text, cur.coll, cur.orig);
    cur.spec = parsed.spec;
    cur.slotOfLine = parsed.slotOfLine;
    $('asm-error').textContent = '';
  } catch (e) {
    // Nothing runs while the text does not assemble: the last verdict was about other text.
    cur.spec = undefined;
    cur.verdict = undefined;
    session.close();
    $('asm-error').textContent = `does not assemble: ${(e as Error).message}`;
    $('verdict').replaceChildren(h('p', { class: 'verdict bad', id: 'verdict-text' }, `${cur.program}: the assembly does not assemble`));
    status('does not assemble');
    run.refresh();
    refreshMarks();
    return;
  }
  if (edited) state.asm = text;
  status('verifying…');
  const verdict = await session.load(withProgram(cur.coll, cur.spec), cur.program);
  if (seq !== loadSeq) return;
  cur.verdict = verdict;
  status(verdict.ok ? `${cur.program}: accepted` : `${verdict.program}: rejected`);
  renderVerdict($('verdict'), verdict, {
    goToInsn: (slot) => {
      const [line] = editorLinesOfSlots((s) => s === slot);
      if (line) { scrollToLine(editor, line); editor.dispatch({ selection: { anchor: editor.state.doc.line(line).from } }); editor.focus(); }
    },
    goToLine: (n) => sourceView.highlight(n, true),
  });
  $('vlog').textContent = verdict.log;
  renderInsnState($('insn-state'), slotOfEditorLine(cursorLine(editor)), verdict);
  for (const e of state.mapEdits) {
    try { session.editMap(e); } catch { /* a map edit of another program's map: ignore */ }
  }
  run.refresh();
  refreshMarks();
  void saveUrl();
}

/** Show collection `coll`, program `program`, with `asm` in the editor if given. */
async function show(coll: CollectionSpec, program: string, cSource: string | undefined, asm?: string): Promise<void> {
  const ps = coll.programs.get(program) ?? [...coll.programs.values()][0];
  if (!ps) {
    status('the object has no programs');
    return;
  }
  cur = { coll, program: ps.name, orig: ps, spec: ps, slotOfLine: new Map(), verdict: undefined, cSource };
  state.program = ps.name;
  const sel = $('program') as HTMLSelectElement;
  sel.replaceChildren(...[...coll.programs.keys()].map((n) => h('option', { value: n, selected: n === ps.name }, n)));
  sourceView.setSource(cSource, ps.lineInfo);
  const text = asm ?? toListing(coll, ps);
  replaceDoc(editor, text);
  await verifyText(text, asm !== undefined);
}

async function loadExample(id: string, keep?: PlaygroundState): Promise<void> {
  const ex = exampleById(id) ?? EXAMPLES[0]!;
  state = keep ?? { ...state, example: ex.id, packet: ex.packet, mapEdits: [], input: 'builder' };
  delete state.object;
  delete state.objectName;
  if (!keep) delete state.asm;
  ($('example') as HTMLSelectElement).value = ex.id;
  $('lesson').textContent = `${ex.title}: ${ex.lesson}`;
  const bytes = new Uint8Array(await (await fetch(objects[`../examples/${ex.id}.o`]!)).arrayBuffer());
  run.setInputs(state);
  await show(readObject(bytes), keep?.program ?? ex.program, sources[`../examples/${ex.id}.c`], keep?.asm);
}

async function loadUpload(bytes: Uint8Array, name: string, keep?: PlaygroundState): Promise<void> {
  let coll: CollectionSpec;
  try {
    coll = readObject(bytes);
  } catch (e) {
    status(`${name}: ${e instanceof TsbpfError ? `${e.message} (${e.errno})` : String(e)}`);
    return;
  }
  state = keep ?? { ...state, example: '', mapEdits: [] };
  delete state.asm;
  if (keep?.asm !== undefined) state.asm = keep.asm;
  state.objectName = name;
  // Objects up to 48 KiB travel in the link; larger ones are shown but not shared.
  if (bytes.length <= 48 * 1024) state.object = toBase64Url(bytes);
  else delete state.object;
  ($('example') as HTMLSelectElement).value = '';
  $('lesson').textContent = `${name}: your object file (C lines from its BTF line info).`;
  run.setInputs(state);
  await show(coll, keep?.program ?? [...coll.programs.keys()][0] ?? '', undefined, keep?.asm);
}

async function loadScratch(keep?: PlaygroundState): Promise<void> {
  state = keep ?? { ...state, example: '', mapEdits: [] };
  delete state.object;
  ($('example') as HTMLSelectElement).value = '';
  $('lesson').textContent = 'A blank XDP program: r1 is the struct xdp_md pointer, r0 the XDP action returned (2 is XDP_PASS).';
  run.setInputs(state);
  await show(scratchCollection('xdp'), 'prog', undefined, keep?.asm ?? 'prog:\n    r0 = 2\n    exit\n');
}

async function saveUrl(): Promise<string> {
  run.readInputs(state);
  const hash = await encodeState(state);
  history.replaceState(null, '', hash);
  return location.href;
}

async function restore(hash: string): Promise<void> {
  const { state: s, error } = await decodeState(hash);
  if (error) status(error);
  if (s.object) await loadUpload(fromBase64Url(s.object), s.objectName ?? 'shared.o', s);
  else if (s.example === '' ) await loadScratch(s);
  else await loadExample(s.example, s);
}

function setup(): void {
  const exSel = $('example') as HTMLSelectElement;
  exSel.replaceChildren(h('option', { value: '', disabled: true }, '(your program)'), ...EXAMPLES.map((e) => h('option', { value: e.id }, `${e.title}${e.verdict === 'rejected' ? ' ✗' : ''}`)));
  exSel.addEventListener('change', () => void loadExample(exSel.value));
  ($('program') as HTMLSelectElement).addEventListener('change', (e) => {
    if (!cur) return;
    delete state.asm;
    void show(cur.coll, (e.target as HTMLSelectElement).value, cur.cSource);
  });
  ($('upload') as HTMLInputElement).addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) await loadUpload(new Uint8Array(await f.arrayBuffer()), f.name);
  });
  $('scratch').addEventListener('click', () => void loadScratch());
  $('share').addEventListener('click', async () => {
    const url = await saveUrl();
    try {
      await navigator.clipboard.writeText(url);
      status('link copied');
    } catch {
      status('link is in the address bar');
    }
  });
  sourceView = new SourceView($('source'), (line) => {
    refreshMarks();
    const [first] = editorLinesOfSlots((s) => cur?.spec !== undefined && lineInfoAt(cur.spec.lineInfo, s)?.lineNum === line);
    if (first === undefined) return;
    // The cursor goes to the line's first instruction: "Run to cursor" then runs to the C line.
    editor.dispatch({ selection: { anchor: editor.state.doc.line(first).from } });
    scrollToLine(editor, first);
  });
  editor = createEditor($('asm-editor'), '', {
    onChange: scheduleVerify,
    onCursor,
    hover: (line) => {
      const slot = slotOfEditorLine(line);
      return slot === undefined ? null : stateTooltip(slot, cur?.verdict);
    },
    onToggleBreakpoint: (line) => debug.toggleBreakpoint(slotOfEditorLine(line)),
  }, 'Assembly editor');
  const hooks = {
    session,
    current: () => cur,
    cursorSlot: () => slotOfEditorLine(cursorLine(editor)),
    refreshMarks,
    saveUrl: () => void saveUrl(),
    status,
  };
  run = new RunPanel(hooks);
  debug = new DebugPanel(hooks, () => run.packet());
  setupTabs($('tabs'), (id) => {
    if (id !== 'tab-jit') return;
    $('wat').textContent = cur?.verdict?.ok ? session.wat(cur.program) : 'The program was not accepted: there is no JIT output.';
    $('jit-timing').textContent = run.lastTiming ?? 'Time it (Run tab) runs the program many times and reports the mean time per run here.';
  });
  window.addEventListener('hashchange', () => void restore(location.hash));
}

setup();
void restore(location.hash).then(() => {
  // The first view is interactive: the example is verified and shown (the browser test reports this time).
  performance.mark('playground-ready');
  document.body.setAttribute('data-ready', 'true');
});
