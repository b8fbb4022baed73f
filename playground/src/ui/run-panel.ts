/**
 * The Run tab: the packet (built from fields or typed as hex), a run with
 * the return value, the packet out and the maps before and after, a timed
 * run with repeat, and the maps, editable (edits go into the shared link).
 */
import { $, fill, h } from './dom.js';
import type { PageHooks } from './hooks.js';
import { buildPacket, describePacket, DEFAULT_PACKET, type PacketSpec } from '../lib/packet.js';
import { parseHex, toHex } from '../lib/hex.js';
import { asNumber, XDP_ACTIONS, type MapSnapshot } from '../lib/session.js';
import type { PlaygroundState } from '../lib/url-state.js';

type Field = { key: keyof PacketSpec; label: string; kind: 'text' | 'number' | 'select'; options?: string[]; show?: (p: PacketSpec) => boolean };

const FIELDS: Field[] = [
  { key: 'ethSrc', label: 'Ethernet source', kind: 'text' },
  { key: 'ethDst', label: 'Ethernet destination', kind: 'text' },
  { key: 'l3', label: 'Network layer', kind: 'select', options: ['ipv4', 'ipv6', 'none'] },
  { key: 'ethType', label: 'EtherType', kind: 'number', show: (p) => p.l3 === 'none' },
  { key: 'src', label: 'IP source', kind: 'text', show: (p) => p.l3 !== 'none' },
  { key: 'dst', label: 'IP destination', kind: 'text', show: (p) => p.l3 !== 'none' },
  { key: 'ttl', label: 'TTL / hop limit', kind: 'number', show: (p) => p.l3 !== 'none' },
  { key: 'l4', label: 'Transport', kind: 'select', options: ['udp', 'tcp', 'none'], show: (p) => p.l3 !== 'none' },
  { key: 'proto', label: 'IP protocol', kind: 'number', show: (p) => p.l3 !== 'none' && p.l4 === 'none' },
  { key: 'sport', label: 'Source port', kind: 'number', show: (p) => p.l3 !== 'none' && p.l4 !== 'none' },
  { key: 'dport', label: 'Destination port', kind: 'number', show: (p) => p.l3 !== 'none' && p.l4 !== 'none' },
  { key: 'tcpFlags', label: 'TCP flags (FSRPAU)', kind: 'text', show: (p) => p.l3 !== 'none' && p.l4 === 'tcp' },
  { key: 'seq', label: 'TCP sequence', kind: 'number', show: (p) => p.l3 !== 'none' && p.l4 === 'tcp' },
  { key: 'payload', label: 'Payload (hex)', kind: 'text' },
];

export class RunPanel {
  private spec: PacketSpec = DEFAULT_PACKET;
  private mode: 'builder' | 'hex' = 'builder';
  private hex = '';
  private mapEdits: PlaygroundState['mapEdits'] = [];
  /** the last timed run, for the JIT tab */
  lastTiming: string | undefined;

  constructor(private readonly page: PageHooks) {
    $('run').addEventListener('click', () => this.run(1));
    $('time').addEventListener('click', () => this.run(Number(($('repeat') as HTMLInputElement).value) || 1));
  }

  setInputs(s: PlaygroundState): void {
    this.spec = { ...s.packet };
    this.mode = s.input;
    this.hex = s.hex;
    this.mapEdits = s.mapEdits;
    ($('repeat') as HTMLInputElement).value = String(s.repeat);
    this.renderForm();
  }

  readInputs(s: PlaygroundState): void {
    s.packet = { ...this.spec };
    s.input = this.mode;
    s.hex = this.hex;
    s.repeat = Math.max(1, Math.min(1_000_000, Number(($('repeat') as HTMLInputElement).value) || 1));
    s.mapEdits = this.mapEdits;
  }

  /** The packet the inputs describe (throws with the reason when they are not valid). */
  packet(): Uint8Array {
    return this.mode === 'hex' ? parseHex(this.hex) : buildPacket(this.spec);
  }

  private renderForm(): void {
    const form = $('packet-form');
    const preview = h('pre', { class: 'hex', id: 'packet-preview', 'aria-live': 'polite' });
    const updatePreview = (): void => {
      try {
        const b = this.packet();
        preview.textContent = `${b.length} bytes\n${toHex(b, 16)}`;
        preview.classList.remove('error');
      } catch (e) {
        preview.textContent = (e as Error).message;
        preview.classList.add('error');
      }
    };
    const modeRadio = (m: 'builder' | 'hex', label: string) => h('label', {}, h('input', {
      type: 'radio', name: 'input-mode', value: m, checked: this.mode === m,
      onchange: () => { this.mode = m; if (m === 'hex' && !this.hex) { try { this.hex = toHex(buildPacket(this.spec), 16); } catch { /* keep empty */ } } this.renderForm(); this.page.saveUrl(); },
    }), ` ${label}`);
    const fields = this.mode === 'hex'
      ? [h('label', { class: 'wide' }, 'Packet bytes (hex)', h('textarea', { id: 'hex-input', rows: 5, spellcheck: 'false', oninput: (e: Event) => { this.hex = (e.target as HTMLTextAreaElement).value; updatePreview(); } }, this.hex))]
      : FIELDS.filter((f) => !f.show || f.show(this.spec)).map((f) => {
          const v = this.spec[f.key];
          const set = (raw: string): void => {
            (this.spec as unknown as Record<string, unknown>)[f.key] = f.kind === 'number' ? Number(raw) : raw;
            updatePreview();
          };
          const input = f.kind === 'select'
            ? h('select', { id: `pkt-${f.key}`, onchange: (e: Event) => { set((e.target as HTMLSelectElement).value); this.renderForm(); } }, ...f.options!.map((o) => h('option', { value: o, selected: o === v }, o)))
            : h('input', { id: `pkt-${f.key}`, type: f.kind === 'number' ? 'number' : 'text', value: String(v), spellcheck: 'false', oninput: (e: Event) => set((e.target as HTMLInputElement).value) });
          return h('label', { class: f.key === 'payload' ? 'wide' : undefined }, f.label, input);
        });
    form.replaceChildren(h('fieldset', {}, h('legend', {}, 'Input packet'), h('div', { class: 'modes' }, modeRadio('builder', 'Build from fields'), modeRadio('hex', 'Raw hex')), h('div', { class: 'fields' }, ...fields)), preview);
    updatePreview();
  }

  /** Run the program on the packet `repeat` times. */
  run(repeat: number): void {
    const cur = this.page.current();
    const out = $('run-out');
    if (!cur?.verdict?.ok) {
      out.replaceChildren(h('p', { class: 'error' }, 'The verifier has not accepted the program: it cannot run.'));
      return;
    }
    try {
      const data = this.packet();
      const { result, before, after } = this.page.session.run(cur.program, data, repeat);
      const action = cur.orig.type === 'xdp' ? XDP_ACTIONS[result.retval] : undefined;
      if (repeat > 1) this.lastTiming = `${cur.program}: ${result.duration} ns per run, mean of ${repeat} runs of the JIT-compiled program`;
      fill(out,
        h('p', { class: 'retval' }, 'Return value: ', h('strong', { id: 'retval' }, `${result.retval}${action ? ` (${action})` : ''}`)),
        h('p', {}, `${repeat > 1 ? `${repeat} runs, ` : ''}${result.duration} ns per run (JIT-compiled WebAssembly${repeat === 1 ? '; use Time it for a steadier figure' : ''})`),
        result.data ? h('div', {}, h('h3', {}, 'Packet out'), h('ul', { class: 'decoded' }, ...describePacket(result.data).map((l) => h('li', {}, l))),
          h('pre', { class: 'hex' }, toHex(result.data, 16))) : null,
        h('h3', {}, 'Maps after the run (changes marked)'), mapsDiff(before, after),
      );
      this.renderMaps();
      this.page.saveUrl();
    } catch (e) {
      out.replaceChildren(h('p', { class: 'error' }, (e as Error).message));
    }
  }

  /** The maps, editable. */
  refresh(): void {
    $('run-out').replaceChildren();
    this.renderMaps();
  }

  private renderMaps(): void {
    const el = $('maps');
    const snaps = this.page.session.maps();
    if (!snaps.length) {
      el.replaceChildren(h('p', { class: 'muted' }, 'This program uses no maps.'));
      return;
    }
    el.replaceChildren(...snaps.map((m) => this.mapEditor(m)));
  }

  private mapEditor(m: MapSnapshot): HTMLElement {
    const editable = m.type !== 'ringbuf' && m.type !== 'prog_array';
    const apply = (key: string, value: string | undefined): void => {
      try {
        this.page.session.editMap(value === undefined ? { map: m.name, key } : { map: m.name, key, value });
        this.mapEdits = [...this.mapEdits.filter((e) => !(e.map === m.name && e.key === key)), value === undefined ? { map: m.name, key } : { map: m.name, key, value }];
        this.page.status(`${m.name}: ${value === undefined ? 'deleted' : 'set'} ${key}`);
        this.renderMaps();
        this.page.saveUrl();
      } catch (e) {
        this.page.status(`${m.name}: ${(e as Error).message}`);
      }
    };
    const rows = m.entries.map(([k, v]) => h('tr', {},
      h('td', {}, h('code', {}, k), num(k)),
      h('td', {}, editable ? h('input', { value: v, 'aria-label': `${m.name} value of key ${k}`, spellcheck: 'false', onchange: (e: Event) => apply(k, (e.target as HTMLInputElement).value) }) : h('code', {}, v), num(v)),
      h('td', {}, editable ? h('button', { type: 'button', 'aria-label': `delete key ${k} of ${m.name}`, onclick: () => apply(k, undefined) }, 'delete') : null)));
    const keyIn = h('input', { placeholder: `key, ${m.keySize} bytes hex`, 'aria-label': `new key for ${m.name}`, id: `newkey-${m.name}`, spellcheck: 'false' });
    const valIn = h('input', { placeholder: `value, ${m.valueSize} bytes hex`, 'aria-label': `new value for ${m.name}`, id: `newval-${m.name}`, spellcheck: 'false' });
    return h('div', { class: 'map', 'data-map': m.name },
      h('h4', {}, `${m.name} `, h('small', {}, `${m.type}, key ${m.keySize} B, value ${m.valueSize} B${m.note ? `, ${m.note}` : ''}`)),
      m.records ? h('p', {}, m.records.length ? `${m.records.length} record(s) read after the last run:` : 'no records waiting', ...m.records.map((r) => h('code', { class: 'record' }, r))) : null,
      rows.length ? h('table', { class: 'entries' }, h('thead', {}, h('tr', {}, h('th', {}, 'key'), h('th', {}, 'value'), h('th', {}, ''))), h('tbody', {}, ...rows)) : m.records ? null : h('p', { class: 'muted' }, 'empty'),
      editable ? h('form', { class: 'add', onsubmit: (e: Event) => { e.preventDefault(); apply(keyIn.value, valIn.value); } }, keyIn, valIn, h('button', { type: 'submit' }, 'set')) : null);
  }
}

function num(hex: string): HTMLElement | null {
  const n = asNumber(hex);
  return n === undefined ? null : h('span', { class: 'num' }, ` = ${n}`);
}

/** The maps after a run, each changed entry marked with its value before. */
function mapsDiff(before: MapSnapshot[], after: MapSnapshot[]): HTMLElement {
  const items: HTMLElement[] = [];
  for (const a of after) {
    const b = before.find((x) => x.name === a.name);
    const old = new Map(b?.entries ?? []);
    const changes = a.entries.filter(([k, v]) => old.get(k) !== v).map(([k, v]) => h('li', { class: 'changed' }, `${a.name}[${k}${asNumber(k) ? ` = ${asNumber(k)}` : ''}]: ${old.get(k) ?? '(none)'} → ${v}${asNumber(v) ? ` = ${asNumber(v)}` : ''}`));
    const now = new Set(a.entries.map(([k]) => k));
    for (const [k] of old) if (!now.has(k)) changes.push(h('li', { class: 'changed' }, `${a.name}[${k}]: deleted`));
    for (const r of a.records ?? []) changes.push(h('li', { class: 'changed' }, `${a.name}: record ${r}`));
    items.push(...changes);
  }
  return h('ul', { id: 'map-changes' }, ...(items.length ? items : [h('li', {}, 'no map changed')]));
}
