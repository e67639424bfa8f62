// Autocapture: one delegated click listener for `data-pqlkit-feature` / `data-pqlkit-event`,
// and page views on load and on SPA navigation (pushState, replaceState, popstate).
export function autocapture({ onFeature, onEvent, onPage }) {
  const onClick = (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const feature = target?.closest('[data-pqlkit-feature]');
    if (feature) onFeature(feature.getAttribute('data-pqlkit-feature'));
    const named = target?.closest('[data-pqlkit-event]');
    if (named) onEvent(named.getAttribute('data-pqlkit-event'));
  };
  let last = null;
  const view = () => {
    const where = location.pathname + location.search;
    if (where === last) return; // replaceState with the same URL is not a new view
    last = where;
    onPage(where);
  };
  const originals = { pushState: history.pushState, replaceState: history.replaceState };
  const wrappers = {};
  for (const name of Object.keys(originals)) {
    wrappers[name] = history[name] = function (...args) {
      const result = originals[name].apply(this, args);
      view();
      return result;
    };
  }
  document.addEventListener('click', onClick, true);
  addEventListener('popstate', view);
  view();
  return () => {
    document.removeEventListener('click', onClick, true);
    removeEventListener('popstate', view);
    // Only undo our wrappers if nobody wrapped them again since.
    for (const name of Object.keys(originals)) if (history[name] === wrappers[name]) history[name] = originals[name];
  };
}
