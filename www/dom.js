// DOM helpers shared by the demo pages. Text only: children become Text nodes, never HTML.
export const $ = (sel, root = document) => root.querySelector(sel);

/** `h('button', { class: 'x', onclick: f }, 'Label')`; `true` attributes are set empty, `false`/null ones skipped. */
export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}
