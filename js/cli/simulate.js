// `pqlkit simulate`: a deterministic synthetic product history with a planted truth.
//
// Every user gets traits (identify) and an account (group), then sessions of ordinary product
// use over up to 35 days from a start day. Planted behaviours:
// - integrators (30 %) connect an integration on 2–3 distinct days within their first 5 days;
//   they convert with probability 45 %, the others with 6 %: the STRONG signal;
// - theme tinkerers (35 %) switch the theme 2–3 times within their first 5 days, independently
//   of conversion: NOISE;
// - 92 % create a project in their first session: a LOOSE signal that flags almost everyone;
// - converters visit the billing page 2–20 minutes before they convert (and 1 % of the others
//   visit it some day): a TIGHT signal, true only at the moment of conversion.
// Conversions happen 5 to 25 days after the start (never before the integrations), and only when
// that is within the simulated days. Same arguments → byte-identical files.

const DAY = 86400000;
const BASE = Date.UTC(2025, 0, 6); // a Monday

/** mulberry32 seeded through a string hash: small, fast, and the same everywhere. */
function rng(seed) {
  let h = 1779033703 ^ String(seed).length;
  for (const c of String(seed)) h = Math.imul(h ^ c.charCodeAt(0), 3432918353), (h = (h << 13) | (h >>> 19));
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SIMULATED_RULES = {
  version: 1,
  pages: { pricing: '/pricing*', billing: '/settings/billing*' },
  rules: [
    {
      id: 'integration-connected',
      kind: 'feature',
      when: { event: 'feature_used', where: { feature: 'integration' }, distinctDays: { $gte: 2 }, within: '14d' },
      score: 40,
      actions: [{ beacon: 'feature' }],
    },
    {
      id: 'theme-tinkerer',
      kind: 'feature',
      when: { event: 'feature_used', where: { feature: 'theme' }, count: { $gte: 2 }, within: '14d' },
      score: 10,
    },
    {
      id: 'created-a-project',
      kind: 'usage',
      when: { event: 'project_created', count: { $gte: 1 } },
      score: 10,
    },
    {
      id: 'billing-page-visit',
      kind: 'intent',
      when: { event: 'page_view', where: { page: 'billing' }, count: { $gte: 1 }, within: '7d' },
      score: 30,
      actions: [{ beacon: 'intent' }],
    },
  ],
  scoring: { threshold: 50, tiers: { warm: 20, hot: 50 } },
  onQualified: [{ beacon: 'pql' }],
};

const INDUSTRIES = ['fintech', 'retail', 'health', 'media', 'education'];
const ROLES = ['admin', 'member', 'developer', 'manager'];
const COMMON = [
  ['page_view', { path: '/dashboard' }],
  ['page_view', { path: '/projects' }],
  ['report_exported', { format: 'csv' }],
  ['feature_used', { feature: 'search' }],
  ['page_view', { path: '/reports' }],
  ['feature_used', { feature: 'comments' }],
];

/**
 * Writes events.ndjson text through `writeEvents(chunk)` (in chunks, so memory stays small) and
 * returns `{ conversions, rules, summary }`.
 */
export function simulate({ users, days, seed }, writeEvents) {
  const rand = rng(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const end = BASE + days * DAY;
  const span = days > 40 ? days - 30 : Math.max(1, Math.floor(days / 2));
  let out = [];
  let size = 0;
  const conversions = ['userId,convertedAt,accountId'];
  let events = 0;
  let accountNo = 0;
  let accountLeft = 0;
  let account = null;
  const planted = { integrators: 0, themers: 0, converters: 0 };
  const line = (t, userId, event, props) => {
    events++;
    const text = JSON.stringify(props ? { timestamp: t, userId, event, props } : { timestamp: t, userId, event });
    size += text.length;
    out.push(text);
  };
  for (let u = 1; u <= users; u++) {
    const userId = `u${String(u).padStart(6, '0')}`;
    if (accountLeft === 0) {
      accountNo++;
      accountLeft = 1 + Math.floor(rand() * 4);
      account = { id: `a${String(accountNo).padStart(5, '0')}`, traits: { company_size: 1 + Math.floor(rand() * 400), industry: pick(INDUSTRIES) } };
    }
    accountLeft--;
    const start = BASE + Math.floor(rand() * span) * DAY + Math.floor((8 + rand() * 10) * 3600000);
    const integrator = rand() < 0.3;
    const themer = rand() < 0.35;
    const creator = rand() < 0.92;
    const converts = rand() < (integrator ? 0.45 : 0.06);
    const convertAt = start + Math.floor((5 + rand() * 20) * DAY);
    const converted = converts && convertAt < end;
    planted.integrators += integrator;
    planted.themers += themer;
    planted.converters += converted;
    const timed = [];
    const push = (t, name, props) => {
      if (t < end) timed.push([t, name, props]);
    };
    const lastDay = Math.min(35, Math.floor((end - start) / DAY));
    for (let d = 0; d <= lastDay; d++) {
      if (rand() > (d < 3 ? 0.9 : 0.5) && d > 0) continue;
      const sessions = 1 + (rand() < 0.4);
      for (let s = 0; s < sessions; s++) {
        let t = start + d * DAY + s * 5 * 3600000 + Math.floor(rand() * 3600000);
        const n = 3 + Math.floor(rand() * 6);
        for (let k = 0; k < n; k++) {
          t += 30000 + Math.floor(rand() * 300000);
          const [name, props] = pick(COMMON);
          push(t, name, props);
          if (rand() < 0.05) push(t + 1000, 'page_view', { path: '/pricing' });
        }
        if (creator && d === 0 && s === 0) push(t + 60000, 'project_created', { template: pick(['blank', 'kanban', 'crm']) });
        else if (creator && rand() < 0.2) push(t + 60000, 'project_created', { template: 'blank' });
      }
    }
    const earlyDays = (count) => {
      const chosen = new Set();
      while (chosen.size < count) chosen.add(Math.floor(rand() * 5));
      return [...chosen];
    };
    if (integrator) for (const d of earlyDays(2 + (rand() < 0.5))) push(start + d * DAY + Math.floor(rand() * 4 * 3600000), 'feature_used', { feature: 'integration', app: pick(['slack', 'github', 'salesforce']) });
    if (themer) {
      const n = 2 + (rand() < 0.5);
      for (let k = 0; k < n; k++) push(start + Math.floor(rand() * 5 * DAY), 'feature_used', { feature: 'theme', theme: pick(['dark', 'light']) });
    }
    if (converted) {
      push(convertAt - Math.floor((2 + rand() * 18) * 60000), 'page_view', { path: '/settings/billing' });
      conversions.push(`${userId},${new Date(convertAt).toISOString()},${account.id}`);
    } else if (rand() < 0.01) push(start + Math.floor(rand() * lastDay * DAY), 'page_view', { path: '/settings/billing' });
    timed.sort((a, b) => a[0] - b[0]);
    out.push(JSON.stringify({ type: 'identify', userId, timestamp: start, traits: { plan: rand() < 0.5 ? 'trial' : 'free', role: pick(ROLES) } }));
    out.push(JSON.stringify({ type: 'group', userId, accountId: account.id, timestamp: start, traits: account.traits }));
    for (const [t, name, props] of timed) line(t, userId, name, props);
    if (size > 1 << 20 || u === users) {
      writeEvents(out.join('\n') + '\n');
      out = [];
      size = 0;
    }
  }
  return {
    conversions: conversions.join('\n') + '\n',
    rules: JSON.stringify(SIMULATED_RULES, null, 2) + '\n',
    summary: { users, days, seed, events, accounts: accountNo, ...planted, from: new Date(BASE).toISOString(), to: new Date(end).toISOString() },
  };
}
