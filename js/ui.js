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

const themed = (name, fallback) => `var(--pqlkit-${name},${fallback})`;
const accent = themed('accent', '#4f46e5'), onAccent = themed('accent-fg', '#fff'), text = themed('fg', '#111827'), muted = themed('muted', '#4b5563');
const radius = themed('radius', '12px'), layer = `z-index:${themed('z', 2147483000)}`;
// Class names are the prompt's parts; a style name (modal, banner, toast, inline) is also the
// class of its card (a modal's card sits inside a .backdrop).
const CSS = `:host{all:initial!important;display:block!important}
*{box-sizing:border-box;margin:0}
.card{position:relative;padding:20px;background:${themed('bg', '#fff')};color:${text};border-radius:${radius};box-shadow:${themed('shadow', '0 16px 40px #11182730,0 2px 8px #11182714')};font:15px/1.5 ${themed('font', 'system-ui,sans-serif')};overflow-wrap:break-word}
h2{font-size:17px;font-weight:650;line-height:1.35;padding-right:28px}
.body{margin-top:6px;color:${muted}}
.actions{display:flex;flex-wrap:wrap;justify-content:flex-end;gap:8px;margin-top:18px}
button,a{all:unset;display:inline-flex;align-items:center;justify-content:center;padding:9px 16px;font-size:14px;font-weight:600;line-height:20px;border-radius:calc(${radius}*2/3);cursor:pointer}
.primary{background:${accent};color:${onAccent}}
.primary:hover{filter:brightness(1.1)}
.secondary{color:${text}}
.secondary:hover,.close:hover{background:#8882}
.close{position:absolute;top:12px;right:12px;width:30px;height:30px;padding:0;font-size:22px;line-height:1;color:${muted}}
:focus-visible{outline:2px solid ${accent};outline-offset:2px}
.backdrop{position:fixed;inset:0;${layer};display:flex;align-items:center;justify-content:center;padding:16px;background:${themed('backdrop', 'rgba(17,24,39,.55)')};animation:fade .2s ease-out}
.modal{width:100%;max-width:440px;padding:28px;animation:rise .25s ease-out}
.modal h2{font-size:20px}
.toast{position:fixed;right:20px;bottom:20px;${layer};width:360px;max-width:calc(100vw - 40px);animation:rise .3s ease-out}
.banner{position:fixed;top:0;left:0;right:0;${layer};display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;padding:10px 56px 10px 24px;border-radius:0;background:${accent};color:${onAccent};animation:drop .3s ease-out}
.banner>:first-child{flex:1 1 300px}
.banner h2,.banner .body{display:inline;font-size:15px;padding:0;color:inherit}
.banner .body{margin-left:8px;opacity:.88}
.banner .actions{margin:0}
.banner .primary{background:${onAccent};color:${accent}}
.banner .secondary,.banner .close{color:inherit}
.banner .close{top:50%;margin-top:-15px}
.inline{border:1px solid ${themed('border', '#e5e7eb')};box-shadow:0 1px 3px #1118270f;animation:fade .3s ease-out}
@keyframes fade{from{opacity:0}}
@keyframes rise{from{opacity:0;transform:translateY(12px) scale(.98)}}
@keyframes drop{from{transform:translateY(-100%)}}
@media (prefers-reduced-motion:reduce){*{animation:none!important}}`;

const STYLES = ['modal', 'banner', 'toast', 'inline'];

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
/** @param {{ onOutcome?: (prompt: object, outcome: string) => void, onError?: (code: import('pqlkit').ErrorCode, message: string) => void, document?: Document }} [options] */
export function createPromptUI({ onOutcome, onError, document: doc = globalThis.document } = {}) {
  let current = null; // { prompt, host, focusBack }
  let sheet;
  const report = (prompt, outcome) => {
    try {
      onOutcome?.(prompt, outcome);
    } catch {}
  };
  const element = (tag, attrs, ...children) => {
    const e = doc.createElement(tag);
    for (const name in attrs) e.setAttribute(name, attrs[name]);
    e.append(...children); // strings become Text nodes
    return e;
  };
  const close = (outcome) => {
    const closing = current;
    if (!closing) return;
    current = null;
    const remove = () => {
      closing.host.remove();
      closing.focusBack?.focus?.();
    };
    // A link removed during its own click would not navigate.
    outcome == 'clicked' ? setTimeout(remove) : remove();
    if (outcome) report(closing.prompt, outcome);
  };

  function show(prompt) {
    const style = prompt?.style;
    if (current || !STYLES.includes(style) || !doc?.body) return false;
    const parent = style == 'inline' ? [...doc.querySelectorAll('[data-pqlkit-slot]')].find((e) => e.getAttribute('data-pqlkit-slot') === prompt.slot) : doc.body;
    if (!parent) return false;
    const modal = style == 'modal';
    const title = String(prompt.title ?? '');
    const cta = prompt.cta;
    const link = cta && safe(cta.url) && element('a', { class: 'primary', href: cta.url }, String(cta.label || 'Learn more'));
    const button = (cls, label, attrs) => element('button', { type: 'button', class: cls, ...attrs }, label);
    const card = element('div', {
      class: 'card ' + style,
      ...(modal ? { role: 'dialog', 'aria-modal': true, 'aria-labelledby': 'title', 'aria-describedby': 'body', tabindex: -1 }
        : style == 'toast' ? { role: 'status', 'aria-live': 'polite' }
        : style == 'banner' ? { role: 'region', 'aria-label': title || 'Announcement' }
        : { role: 'region', 'aria-labelledby': 'title' }),
    },
    element('div', {}, element('h2', { id: 'title' }, title), element('p', { id: 'body', class: 'body' }, String(prompt.body ?? ''))),
    element('div', { class: 'actions' }, ...(modal || style == 'inline' || prompt.dismiss ? [button('secondary', String(prompt.dismiss || 'Not now'))] : []), ...(link ? [link] : [])),
    button('close', '×', { 'aria-label': 'Close' }));
    const host = element('pqlkit-prompt', { 'data-style': style });
    const root = host.attachShadow({ mode: 'open' });
    const top = modal ? element('div', { class: 'backdrop' }, card) : card;
    try {
      if (!sheet) (sheet = new doc.defaultView.CSSStyleSheet()).replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch {
      root.append(element('style', {}, CSS));
    }
    root.append(top);
    // Buttons and backdrop dismiss. Must not return false (that would cancel the link).
    top.onclick = ({ target }) => {
      if (target == top ? modal : /^(A|BUTTON)$/.test(target.tagName)) close(target == link ? 'clicked' : 'dismissed');
    };
    if (modal) {
      top.onkeydown = (e) => {
        if (e.key == 'Escape') {
          e.stopPropagation();
          close('dismissed');
        } else if (e.key == 'Tab') {
          e.preventDefault(); // focus trap
          const focusable = [...card.querySelectorAll('button,a')];
          const i = focusable.indexOf(root.activeElement);
          focusable[e.shiftKey ? (i > 0 ? i : focusable.length) - 1 : (i + 1) % focusable.length].focus();
        }
      };
    }
    current = { prompt, host, focusBack: modal && doc.activeElement };
    parent.append(host);
    // :host makes it a block: an inline host means no style applied.
    if (doc.defaultView?.getComputedStyle?.(host).display == 'inline') onError?.('styles_blocked', "prompt styles were blocked (a Content-Security-Policy's style-src?): the prompt shows unstyled");
    if (modal) (link || card.querySelector('.secondary')).focus();
    report(prompt, 'shown');
    return true;
  }

  return {
    show(prompt) {
      try {
        return show(prompt);
      } catch {
        return false; // never throw into the page
      }
    },
    // A prompt whose slot (or host) left the page no longer counts as visible.
    visible: () => (current?.host.isConnected ? current.prompt : ((current = null), null)),
    hide: () => close(),
    destroy: () => close(),
  };
}
