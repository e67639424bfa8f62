// Compiles only if the published types describe the documented API (PRODUCT.md §3), imported
// by the package's name, so through its `exports` (in the repository by self-reference, in
// tests/js/types.test.js from the packed tarball). Each `@ts-expect-error` is a misuse tsc
// must reject: a type too loose makes the directive unused, which is an error.
import { init, evalCondition, PqlkitError } from 'pqlkit';
import type { Beacon, ErrorCode, Explanation, FrequencyBlock, Pqlkit, PromptEvent, QualifiedEvent, RuleSet, ValidationCode } from 'pqlkit';
import { validate } from 'pqlkit/validate';
import 'pqlkit/global';

const rules: RuleSet = {
  version: 1,
  pages: { pricing: '/pricing*' },
  rules: [
    {
      id: 'pricing-revisits',
      kind: 'intent',
      audience: { plan: { $in: ['free', 'trial'] } },
      when: { all: [{ event: 'page_view', where: { page: 'pricing' }, count: { $gte: 2 }, within: '7d' }] },
      score: 30,
      actions: [{ prompt: 'talk-to-us' }, { beacon: 'intent' }],
      frequency: { cooldown: '3d', maxShows: 3 },
    },
  ],
  prompts: { 'talk-to-us': { style: 'toast', title: 'Comparing plans?', cta: { label: 'Book', url: '/meet' } } },
};

async function main(): Promise<void> {
  const pql: Pqlkit = await init({ rules, storage: 'memory', consent: 'granted', ui: 'none', now: () => Date.now() });
  pql.track('report_exported', { format: 'csv' });
  pql.featureUsed('export');
  pql.limitHit('projects', { used: 5, limit: 5 });
  pql.usage('seats', 4, 5);
  const off = pql.on('qualified', (e: QualifiedEvent) => e.score + 1);
  pql.on('rule:fired', (e) => e.rule?.length);
  pql.on('beacon', (b: Beacon) => b.id.length);
  pql.on('error', (e: PqlkitError) => e.code);
  off();
  // Headless: the prompt event reports back itself.
  pql.on('prompt', (p: PromptEvent) => {
    p.shown();
    p.clicked();
    p.dismissed();
    pql.promptOutcome(p, 'shown');
  });
  pql.on('prompt:dismissed', (p) => p.id);
  const why: Explanation | null = pql.explain('pricing-revisits');
  const blocked: FrequencyBlock | null | undefined = why?.frequency.blocked;
  const { score, tier, qualified } = pql.score();
  const ok: boolean = await evalCondition({ plan: 'free' }, { plan: 'free' });
  await pql.flush();
  pql.destroy();
  void [blocked, score, tier, qualified, ok];

  // Codes are unions of the documented values, so a switch over them is checked.
  pql.on('error', (e) => {
    const code: ErrorCode = e.code;
    if (code === 'storage_full' || code === 'wasm_blocked' || code === 'invalid_duration') return;
    // @ts-expect-error: not a documented code
    if (code === 'storage_is_full') return;
  });

  // @ts-expect-error: no such event
  pql.on('qualify', () => {});
  // @ts-expect-error: the payload of `beacon` has no `reason`
  pql.on('beacon', (b) => b.reason);
  // @ts-expect-error: the `prompt` payload's style is a PromptStyle, a title is a string
  pql.on('prompt', (p) => p.style === 'popup' || p.title === 1);
  // @ts-expect-error: `ui` is 'default' or 'none'
  await init({ rules, ui: 'headless' });
  // @ts-expect-error: `storage` is 'local' or 'memory'
  await init({ rules, storage: 'session' });
  // @ts-expect-error: `rules` is required
  await init({ storage: 'memory' });
  // @ts-expect-error: a duration is a number and a unit
  await init({ rules: { version: 1, rules: [{ id: 'r', when: { event: 'x', count: 1, within: '7 days' } }] } });
  // @ts-expect-error: a prompt style is one of four
  await init({ rules: { version: 1, rules: [], prompts: { p: { style: 'popup', title: 'x' } } } });
  // @ts-expect-error: the outcome of a prompt is shown, clicked or dismissed
  pql.promptOutcome({ id: 'p', rule: null }, 'ignored');
  // @ts-expect-error: blocked reasons are the documented ones
  const reason: FrequencyBlock = 'snooze';
  void reason;
}

void main;

// pqlkit/validate: the authoring validator.
async function validation() {
  const report = await validate(rules);
  const valid: boolean = report.valid;
  for (const problem of report.errors) {
    const where: string = problem.path;
    const what: ValidationCode = problem.code;
    console.log(valid, where, what, problem.message);
  }
}
void validation;

// pqlkit/global: the script-tag build's `window.pqlkit`.
async function scriptTag() {
  const pql = await window.pqlkit.init({ rules: '/pql/rules.json' });
  pql.page();
  // @ts-expect-error: window.pqlkit has init only
  window.pqlkit.track('x');
}
void scriptTag;
