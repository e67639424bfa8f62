// Prompt renderer (`ui: 'default'`). Each prompt is in an open shadow root on a
// <pqlkit-prompt data-style=STYLE> host. Text only: never innerHTML.
//
// Theme: CSS custom properties on `:root` or `pqlkit-prompt` (default):
//   --pqlkit-accent     buttons, banner, focus ring (#4f46e5)
//   --pqlkit-accent-fg  text on the accent (#fff)
//   --pqlkit-bg         card background (#fff)
//   --pqlkit-fg         text (#111827)
//   --pqlkit-muted      body text, close button (#4b5563)
//   --pqlkit-border     inline card border (#e5e7eb)
//   --pqlkit-radius     card corners; buttons get 2/3 (12px)
//   --pqlkit-font       font family (system-ui,sans-serif)
//   --pqlkit-shadow     card shadow (soft, two layers)
//   --pqlkit-backdrop   modal backdrop (rgba(17,24,39,.55))
//   --pqlkit-z          z-index of modal, banner, toast (2147483000)
// No animation under `prefers-reduced-motion: reduce`.

const V = (n, d) => `var(--pqlkit-${n},${d})`;
const ACC = V('accent', '#4f46e5'), AFG = V('accent-fg', '#fff'), FG = V('fg', '#111827'), MUT = V('muted', '#4b5563');
const RAD = V('radius', '12px'), Z = `z-index:${V('z', 2147483000)}`;
const CSS = `:host{all:initial!important;display:block!important}
*{box-sizing:border-box;margin:0}
.c{position:relative;padding:20px;background:${V('bg', '#fff')};color:${FG};border-radius:${RAD};box-shadow:${V('shadow', '0 16px 40px #11182730,0 2px 8px #11182714')};font:15px/1.5 ${V('font', 'system-ui,sans-serif')};overflow-wrap:break-word}
h2{font-size:17px;font-weight:650;line-height:1.35;padding-right:28px}
.d{margin-top:6px;color:${MUT}}
.a{display:flex;flex-wrap:wrap;justify-content:flex-end;gap:8px;margin-top:18px}
button,a{all:unset;display:inline-flex;align-items:center;justify-content:center;padding:9px 16px;font-size:14px;font-weight:600;line-height:20px;border-radius:calc(${RAD}*2/3);cursor:pointer}
.p{background:${ACC};color:${AFG}}
.p:hover{filter:brightness(1.1)}
.g{color:${FG}}
.g:hover,.x:hover{background:#8882}
.x{position:absolute;top:12px;right:12px;width:30px;height:30px;padding:0;font-size:22px;line-height:1;color:${MUT}}
:focus-visible{outline:2px solid ${ACC};outline-offset:2px}
.m{position:fixed;inset:0;${Z};display:flex;align-items:center;justify-content:center;padding:16px;background:${V('backdrop', 'rgba(17,24,39,.55)')};animation:f .2s ease-out}
.m .c{width:100%;max-width:440px;padding:28px;animation:u .25s ease-out}
.m h2{font-size:20px}
.t{position:fixed;right:20px;bottom:20px;${Z};width:360px;max-width:calc(100vw - 40px);animation:u .3s ease-out}
.n{position:fixed;top:0;left:0;right:0;${Z};display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;padding:10px 56px 10px 24px;border-radius:0;background:${ACC};color:${AFG};animation:s .3s ease-out}
.n>:first-child{flex:1 1 300px}
.n h2,.n .d{display:inline;font-size:15px;padding:0;color:inherit}
.n .d{margin-left:8px;opacity:.88}
.n .a{margin:0}
.n .p{background:${AFG};color:${ACC}}
.n .g,.n .x{color:inherit}
.n .x{top:50%;margin-top:-15px}
.i{border:1px solid ${V('border', '#e5e7eb')};box-shadow:0 1px 3px #1118270f;animation:f .3s ease-out}
@keyframes f{from{opacity:0}}
@keyframes u{from{opacity:0;transform:translateY(12px) scale(.98)}}
@keyframes s{from{transform:translateY(-100%)}}
@media (prefers-reduced-motion:reduce){*{animation:none!important}}`;

const KINDS = { modal: 'm', banner: 'n', toast: 't', inline: 'i' };

/** Whether `url` is http(s) or relative (validation checks it too: defence in depth). */
const safe = (url) => {
  try {
    return /^https?:$/.test(new URL(url, 'https://x.invalid/').protocol);
  } catch {}
};

/**
 * Creates the renderer. `onOutcome(prompt, 'shown' | 'clicked' | 'dismissed')` is called once per
 * outcome; `onError('styles_blocked', message)` when a prompt's styles did not apply.
 * Styles are a constructable stylesheet adopted by each shadow root, which a CSP's `style-src`
 * does not govern, or else a <style> element (which `style-src` without 'unsafe-inline' blocks).
 */
export function createPromptUI({ onOutcome, onError, document: doc = globalThis.document } = {}) {
  let cur = null; // { p, host, back }
  let sheet;
  const report = (p, o) => {
    try {
      onOutcome?.(p, o);
    } catch {}
  };
  const h = (tag, attrs, ...kids) => {
    const e = doc.createElement(tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    e.append(...kids); // strings become Text nodes
    return e;
  };
  const close = (o) => {
    const c = cur;
    if (!c) return;
    cur = null;
    const end = () => {
      c.host.remove();
      c.back?.focus?.();
    };
    // A link removed during its own click would not navigate.
    o == 'clicked' ? setTimeout(end) : end();
    if (o) report(c.p, o);
  };

  function show(p) {
    const kind = KINDS[p?.style];
    if (cur || !kind || !doc?.body) return false;
    const parent = kind == 'i' ? [...doc.querySelectorAll('[data-pqlkit-slot]')].find((e) => e.getAttribute('data-pqlkit-slot') === p.slot) : doc.body;
    if (!parent) return false;
    const modal = kind == 'm';
    const title = String(p.title ?? '');
    const cta = p.cta;
    const a = cta && safe(cta.url) && h('a', { class: 'p', href: cta.url }, String(cta.label || 'Learn more'));
    const button = (cls, label, attrs) => h('button', { type: 'button', class: cls, ...attrs }, label);
    const card = h('div', {
      class: modal ? 'c' : 'c ' + kind,
      ...(modal ? { role: 'dialog', 'aria-modal': true, 'aria-labelledby': 't', 'aria-describedby': 'd', tabindex: -1 }
        : kind == 't' ? { role: 'status', 'aria-live': 'polite' }
        : kind == 'n' ? { role: 'region', 'aria-label': title || 'Announcement' }
        : { role: 'region', 'aria-labelledby': 't' }),
    },
    h('div', {}, h('h2', { id: 't' }, title), h('p', { id: 'd', class: 'd' }, String(p.body ?? ''))),
    h('div', { class: 'a' }, ...(modal || kind == 'i' || p.dismiss ? [button('g', String(p.dismiss || 'Not now'))] : []), ...(a ? [a] : [])),
    button('x', '×', { 'aria-label': 'Close' }));
    const host = h('pqlkit-prompt', { 'data-style': p.style });
    const root = host.attachShadow({ mode: 'open' });
    const wrap = modal ? h('div', { class: 'm' }, card) : card;
    try {
      if (!sheet) (sheet = new doc.defaultView.CSSStyleSheet()).replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch {
      root.append(h('style', {}, CSS));
    }
    root.append(wrap);
    // Buttons and backdrop dismiss. Must not return false (that would cancel the link).
    wrap.onclick = ({ target: t }) => {
      if (t == wrap ? modal : /^(A|BUTTON)$/.test(t.tagName)) close(t == a ? 'clicked' : 'dismissed');
    };
    if (modal) {
      wrap.onkeydown = (e) => {
        if (e.key == 'Escape') {
          e.stopPropagation();
          close('dismissed');
        } else if (e.key == 'Tab') {
          e.preventDefault(); // focus trap
          const f = [...card.querySelectorAll('button,a')];
          const i = f.indexOf(root.activeElement);
          f[e.shiftKey ? (i > 0 ? i : f.length) - 1 : (i + 1) % f.length].focus();
        }
      };
    }
    cur = { p, host, back: modal && doc.activeElement };
    parent.append(host);
    // :host makes it a block: an inline host means no style applied.
    if (doc.defaultView?.getComputedStyle?.(host).display == 'inline') onError?.('styles_blocked', "prompt styles were blocked (a Content-Security-Policy's style-src?): the prompt shows unstyled");
    if (modal) (a || card.querySelector('.g')).focus();
    report(p, 'shown');
    return true;
  }

  return {
    show(p) {
      try {
        return show(p);
      } catch {
        return false; // never throw into the page
      }
    },
    // A prompt whose slot (or host) left the page no longer counts as visible.
    visible: () => (cur?.host.isConnected ? cur.p : ((cur = null), null)),
    hide: () => close(),
    destroy: () => close(),
  };
}
