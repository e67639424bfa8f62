// The collector page: lists the beacons the demo server stored, polling GET /pql/beacons every second.
const $ = (id) => document.getElementById(id);
let filter = 'all';
let data = { beacons: [], received: 0, duplicates: 0 };
const known = new Set();
let first = true;

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) (k === 'class' ? (el.className = v) : el.setAttribute(k, v));
  for (const kid of kids.flat()) if (kid != null) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}
const fmt = (t) => (Number.isFinite(t) ? new Date(t).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '–');

function render() {
  const q = $('search').value.trim().toLowerCase();
  const types = ['all', ...new Set(data.beacons.map((b) => b.type))];
  const pressed = document.activeElement?.dataset?.type;
  $('filters').replaceChildren(...types.map((t) => h('button', { type: 'button', 'data-type': t, 'aria-pressed': String(filter === t) }, t === 'all' ? `All (${data.beacons.length})` : t)));
  if (pressed) $('filters').querySelector(`[data-type="${CSS.escape(pressed)}"]`)?.focus();
  const rows = data.beacons
    .filter((b) => filter === 'all' || b.type === filter)
    .filter((b) => !q || [b.rule, b.userId, b.anonymousId, b.accountId, b.type].some((v) => String(v ?? '').toLowerCase().includes(q)))
    .sort((a, b) => (b.receivedAt ?? 0) - (a.receivedAt ?? 0));
  $('rows').replaceChildren(...rows.map((b) => h('tr', { class: !first && !known.has(b.id) ? 'new' : null, 'data-type': b.type, 'data-rule': b.rule ?? '' },
    h('td', { class: 'time' }, fmt(b.receivedAt), h('span', { class: 'sub' }, `fired ${fmt(b.timestamp)}`)),
    h('td', {}, h('span', { class: `badge t-${b.type}` }, b.type), b.via ? h('span', { class: 'sub' }, `via ${b.via}`) : null),
    h('td', {}, b.rule ?? h('span', { class: 'muted' }, 'score threshold')),
    h('td', {}, String(b.score ?? '–'), b.tier ? h('span', { class: 'sub' }, b.tier) : null),
    h('td', { class: 'mono' }, b.userId ?? '–', h('span', { class: 'sub' }, `anon ${String(b.anonymousId ?? '').slice(0, 8)}`)),
    h('td', { class: 'mono' }, b.accountId ?? '–'),
    h('td', { class: 'signals' }, h('code', {}, JSON.stringify(b.signals ?? {}))),
    h('td', { class: 'mono' }, String(b.id).slice(0, 12) + '…'))));
  for (const b of data.beacons) known.add(b.id);
  first = false;
  $('empty').hidden = rows.length > 0;
  $('stat-stored').textContent = String(data.beacons.length);
  $('stat-received').textContent = String(data.received);
  $('stat-duplicates').textContent = String(data.duplicates);
  $('stat-users').textContent = String(new Set(data.beacons.filter((b) => b.type === 'pql').map((b) => b.userId ?? b.anonymousId)).size);
}

async function poll() {
  try {
    const res = await fetch('/pql/beacons', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const next = await res.json();
    const changed = JSON.stringify([next.beacons.length, next.received, next.duplicates]) !== JSON.stringify([data.beacons.length, data.received, data.duplicates]);
    data = next;
    $('live').classList.remove('down');
    $('live-text').textContent = `Live · updated ${new Date().toLocaleTimeString('en-GB')}`;
    if (changed || first) render();
  } catch (error) {
    $('live').classList.add('down');
    $('live-text').textContent = `Collector unreachable (${error.message}), retrying`;
  }
  setTimeout(poll, 1000);
}

$('filters').addEventListener('click', (e) => {
  const t = e.target.closest('button')?.dataset.type;
  if (!t) return;
  filter = t;
  render();
});
$('search').addEventListener('input', render);
poll();
