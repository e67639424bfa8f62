// pqlkit debug overlay: a collapsible panel in a Shadow DOM (text only) with score and tier,
// rule states and counters, the last events and why the last prompt did or did not show.
// mountDebugOverlay({ pql, onTrack, document }) -> destroy(). onTrack(cb) subscribes to every
// event recorded in this tab, cb(name, props, timestamp), and may return an unsubscribe function.
const CSS = `:host{all:initial;position:fixed;left:12px;bottom:12px;z-index:2147483001;font:12px/1.45 ui-monospace,Menlo,monospace;color:#e5e7eb}
.p{background:#111827f2;border-radius:10px;box-shadow:0 8px 24px #0006;width:340px;max-width:calc(100vw - 24px)}
button{all:unset;cursor:pointer;display:block;width:100%;box-sizing:border-box;padding:8px 12px;font-weight:700;color:#fff}
button:focus-visible{outline:2px solid #818cf8}
.b{max-height:60vh;overflow:auto;padding:0 12px 10px}
h3{all:unset;display:block;margin:8px 0 2px;color:#a5b4fc;font-weight:700}
div{white-space:pre-wrap;word-break:break-word}
.y{color:#6ee7b7}.n{color:#9ca3af}`;

const j = (v) => (v === undefined ? '' : JSON.stringify(v));
const time = (t) => new Date(t).toISOString().slice(11, 19);

/** @param {{ pql?: import('pqlkit').Pqlkit, onTrack?: (tap: (name: string, props: object, t: number) => void) => () => void, document?: Document }} [options] */
export function mountDebugOverlay({ pql, onTrack, document: doc = globalThis.document } = {}) {
  const host = doc.createElement('pqlkit-debug');
  const root = host.attachShadow({ mode: 'open' });
  const el = (tag, text, cls) => {
    const e = doc.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  const panel = el('div', null, 'p');
  const toggle = el('button');
  const body = el('div', null, 'b');
  let open = false;
  const events = [];
  let last = null; // { prompt, outcome }
  let timer = 0;

  const draw = () => {
    timer = 0;
    let s;
    try {
      s = pql.score();
    } catch {
      return;
    }
    toggle.textContent = `${open ? '▾' : '▸'} pqlkit  score ${s.score}${s.tier ? ' · ' + s.tier : ''}${s.qualified ? ' · qualified' : ''}`;
    toggle.setAttribute('aria-expanded', open);
    body.hidden = !open;
    if (!open) return;
    const kids = [el('h3', 'Rules')];
    for (const r of s.rules) {
      const x = pql.explain(r.id);
      const w = x?.when;
      const f = x?.frequency?.blocked;
      kids.push(el('div', `${r.matched ? '●' : '○'} ${r.id} +${r.score}${w ? '  ' + j(w.actual) + ' vs ' + j(w.expected) : ''}${f ? '  [' + f + ']' : ''}`, r.matched ? 'y' : 'n'));
    }
    kids.push(el('h3', 'Last prompt'));
    if (!last) kids.push(el('div', 'none yet', 'n'));
    else {
      const { prompt: p, outcome } = last;
      const fr = p.rule ? pql.explain(p.rule)?.frequency : null;
      kids.push(el('div', p.id ? `${p.id} (${p.style}) from ${p.rule ?? 'score'}: ${outcome}` : `rule ${p.rule} fired, no prompt shown`));
      if (fr) kids.push(el('div', fr.blocked ? `held back now by ${fr.blocked}${fr.until ? ' until ' + new Date(fr.until).toLocaleString() : ''}` : 'not held back now', 'n'));
      if (outcome === 'issued') kids.push(el('div', 'not rendered: another prompt is visible or its slot is missing', 'n'));
      if (outcome === 'fired' && !fr?.blocked) kids.push(el('div', 'the rule has no prompt action, or global limits held it back', 'n'));
    }
    kids.push(el('h3', `Events (${events.length})`));
    for (const e of events) {
      const { url, title, ...props } = e[1]; // page_view's url and title repeat its path
      const line = `${time(e[2])} ${e[0]} ${j(props) === '{}' ? '' : j(props)}`;
      kids.push(el('div', line.length > 90 ? line.slice(0, 89) + '…' : line));
    }
    body.replaceChildren(...kids);
  };
  const later = () => (timer ||= setTimeout(draw, 50));

  toggle.onclick = () => {
    open = !open;
    draw();
  };
  panel.append(toggle, body);
  root.append(el('style', CSS), panel);
  doc.body.append(host);

  const offs = [
    onTrack?.((name, props, t) => {
      events.unshift([name, props ?? {}, t ?? Date.now()]);
      events.length = Math.min(events.length, 20);
      later();
    }),
    pql.on('prompt', (p) => ((last = { prompt: p, outcome: 'issued' }), later())),
    ...['shown', 'clicked', 'dismissed'].map((o) => pql.on('prompt:' + o, (p) => ((last = { prompt: p, outcome: o }), later()))),
    pql.on('rule:fired', (e) => {
      last = { prompt: { rule: e.rule }, outcome: 'fired' };
      later();
    }),
  ];
  draw();
  return function destroy() {
    clearTimeout(timer);
    for (const off of offs) if (typeof off === 'function') off();
    host.remove();
  };
}
