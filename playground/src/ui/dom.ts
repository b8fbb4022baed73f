/** A small element builder: h('p', { class: 'x' }, 'text', child). */
type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Node | string | null | undefined | false>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el;
}

/** A table of [name, value] rows. */
export function kvTable(rows: Array<[string, string]>, caption: string, changed?: Set<string>): HTMLTableElement {
  return h('table', { class: 'kv' }, h('caption', {}, caption),
    h('tbody', {}, ...rows.map(([k, v]) => h('tr', { class: changed?.has(k) ? 'changed' : undefined }, h('th', { scope: 'row' }, k), h('td', {}, v)))));
}

/** Replace `el`'s children, skipping the absent ones. */
export function fill(el: Element, ...children: Array<Node | string | null | undefined | false>): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}
