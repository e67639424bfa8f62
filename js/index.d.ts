// Hand-written types for the public API of pqlkit (PRODUCT.md §3). Checked by `tsc --noEmit`
// over tests/types in `npm test`.

/** A JSON value as pqlkit reads and returns it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A Mongo-style condition (GrowthBook's evalCondition operators). */
export type Condition = { [attributeOrOperator: string]: Json };

/** A duration such as `"90s"`, `"30m"`, `"24h"`, `"7d"` or `"2w"`. */
export type Duration = `${number}${'s' | 'm' | 'h' | 'd' | 'w'}`;

/** A comparison applied to a measured number: `{ "$gte": 2 }`, or a bare number meaning `$gte`. */
export type Comparison = number | Condition;

export interface EventMatch {
  event: string;
  where?: Condition;
}

export type Signal =
  | (EventMatch & { count: Comparison; within?: Duration })
  | (EventMatch & { distinctDays: Comparison; within: Duration })
  | { sessions: Comparison; within?: Duration }
  | (EventMatch & { sum: string; value: Comparison; within?: Duration })
  | { limit: string; usage: Comparison }
  | (EventMatch & { notFollowedBy: EventMatch; within: Duration })
  | { firstSeen: true; within: Duration }
  | { daysSinceFirstSeen: Comparison }
  | { traits: Condition };

export type When = Signal | { all: When[] } | { any: When[] } | { not: When };

export type Action = { prompt: string } | { beacon: string };

export interface Rule {
  id: string;
  kind?: 'usage' | 'feature' | 'intent' | 'fit' | 'other';
  description?: string;
  audience?: Condition;
  trigger?: EventMatch;
  when?: When;
  score?: number;
  actions?: Action[];
  frequency?: { cooldown?: Duration; maxShows?: number; snoozeOnDismiss?: Duration; maxDismissals?: number };
  priority?: number;
}

export interface PromptDefinition {
  style: PromptStyle;
  slot?: string;
  title: string;
  body?: string;
  cta?: { label: string; url: string };
  dismiss?: string;
  description?: string;
}

export interface RuleSet {
  $schema?: string;
  version: 1;
  pages?: Record<string, string>;
  rules: Rule[];
  scoring?: { threshold?: number; tiers?: Record<string, number> };
  onQualified?: Action[];
  prompts?: Record<string, PromptDefinition>;
  limits?: { maxPerSession?: number; maxPerDay?: number; minInterval?: Duration };
  groups?: Record<string, Json[]>;
}

export interface InitOptions {
  /** A rule-set object, or a URL to fetch it from. */
  rules: RuleSet | string;
  user?: { id?: string | null; traits?: Record<string, Json> };
  account?: { id?: string | null; traits?: Record<string, Json> };
  /** `apiKey`: Segment write key or PostHog project API key, sent in the batch body. */
  collector?: { url: string; format?: 'pqlkit' | 'segment' | 'posthog'; apiKey?: string };
  /** `false` ignores Do-Not-Track / Global Privacy Control (honoured by default: local-only mode). */
  respectPrivacySignals?: boolean;
  storage?: 'local' | 'memory';
  consent?: 'granted' | 'pending' | 'denied';
  autocapture?: boolean;
  ui?: 'default' | 'none';
  debug?: boolean;
  /** Clock source in milliseconds. */
  now?: () => number;
  /** Where to load the `.wasm` from, when it is not served next to `index.js`. */
  wasmUrl?: string | URL;
}

/**
 * The payload of `qualified` and `rule:fired`. Every rule firing emits `rule:fired`, then
 * `qualified` (`reason: 'rule'`); the score reaching `scoring.threshold` emits `qualified` with
 * `reason: 'score'`. `qualified` (the field) says whether the user is a qualified lead now; in a
 * rule set without a threshold every firing qualifies (each rule defines a PQL).
 */
export interface QualifiedEvent {
  /** `rule`: a rule fired; `score`: the score reached `scoring.threshold`. */
  reason: 'rule' | 'score';
  rule: string | null;
  kind?: string;
  ruleScore?: number;
  /** Signal values that made the rule fire, by their path inside the rule. */
  signals?: Record<string, Json>;
  /** The trigger event, for rules with `trigger`. */
  event?: { name: string; props: Record<string, Json> } | null;
  score: number;
  tier: string | null;
  /** Whether the user is qualified once this call settled: always `true` on `qualified`. */
  qualified: boolean;
  timestamp: number;
}

export type PromptStyle = 'modal' | 'banner' | 'toast' | 'inline';

export interface PromptEvent {
  rule: string | null;
  id: string;
  style: PromptStyle;
  slot: string | null;
  title: string;
  body: string;
  cta?: { label: string; url: string };
  dismiss?: string;
  priority: number;
  /** Properties of the trigger event, when there was one. */
  event: Record<string, Json> | null;
  /** Headless apps (`ui: 'none'`) report what became of the prompt: `promptOutcome(this, 'shown')`. */
  shown(): void;
  clicked(): void;
  dismissed(): void;
}

export interface Beacon {
  id: string;
  type: string;
  rule: string | null;
  score: number;
  tier: string | null;
  userId: string | null;
  anonymousId: string;
  accountId: string | null;
  signals: Record<string, Json>;
  timestamp: number;
  sdkVersion: string;
}

/** The codes of a refused rule set (`ValidationProblem.code`). */
export type ValidationCode =
  | 'invalid_json'
  | 'unsupported_version'
  | 'unknown_field'
  | 'missing_field'
  | 'invalid_type'
  | 'invalid_value'
  | 'unknown_operator'
  | 'invalid_duration'
  | 'invalid_regex'
  | 'unknown_prompt'
  | 'duplicate_rule_id'
  | 'unknown_template_namespace'
  | 'unsafe_url'
  | 'invalid_signal'
  | 'unknown_group';

/** Every `PqlkitError.code`: an `init` rejection, an `error` event, or a validation code. */
export type ErrorCode =
  | ValidationCode
  | 'invalid_options'
  | 'rules_fetch_failed'
  | 'wasm_blocked'
  | 'internal_fault'
  | 'invalid_argument'
  | 'invalid_event'
  | 'invalid_condition'
  | 'listener_fault'
  | 'storage_full'
  | 'state_replaced'
  | 'storage_unavailable'
  | 'outbox_full'
  | 'beacon_rejected'
  | 'styles_blocked'
  | 'debug_unavailable'
  | 'format_unavailable';

/** What holds a rule's prompt back now (`explain(id).frequency.blocked`), or `null`. */
export type FrequencyBlock = 'cooldown' | 'snoozed' | 'maxShows' | 'maxDismissals' | 'maxPerSession' | 'maxPerDay' | 'minInterval' | 'visible';

export interface ValidationProblem {
  code: ValidationCode;
  path: string;
  message: string;
}

export declare class PqlkitError extends Error {
  readonly name: 'PqlkitError';
  /** Stable machine-readable code, e.g. `invalid_duration` or `rules_fetch_failed`. */
  readonly code: ErrorCode;
  /** JSON path into the rule set, when the problem is there. */
  readonly path: string;
  /** Every validation problem, when a rule set was rejected. */
  readonly errors: ValidationProblem[];
}

export interface EventMap {
  qualified: QualifiedEvent;
  'rule:fired': QualifiedEvent;
  prompt: PromptEvent;
  'prompt:shown': PromptEvent;
  'prompt:clicked': PromptEvent;
  'prompt:dismissed': PromptEvent;
  beacon: Beacon;
  error: PqlkitError;
}

export interface ScoreReport {
  score: number;
  tier: string | null;
  qualified: boolean;
  rules: { id: string; matched: boolean; score: number }[];
}

export interface ExplainNode {
  op: 'all' | 'any' | 'not' | 'signal' | 'condition';
  matched: boolean;
  children?: ExplainNode[];
  signal?: Json;
  actual?: Json;
  expected?: Json;
}

export interface Explanation {
  id: string;
  matched: boolean;
  audience: ExplainNode | null;
  when: ExplainNode | null;
  trigger?: EventMatch;
  frequency: { blocked: FrequencyBlock | null; until?: number };
}

export interface Pqlkit {
  track(name: string, props?: Record<string, Json>): void;
  featureUsed(feature: string, props?: Record<string, Json>): void;
  limitHit(limit: string, detail?: { used?: number; limit?: number } & Record<string, Json>): void;
  usage(limit: string, used: number, max: number): void;
  page(path?: string, props?: Record<string, Json>): void;
  identify(userId: string | null, traits?: Record<string, Json>): void;
  group(accountId: string | null, traits?: Record<string, Json>): void;
  on<K extends keyof EventMap>(event: K, listener: (payload: EventMap[K]) => void): () => void;
  score(): ScoreReport;
  explain(ruleId: string): Explanation | null;
  /** `prompt`: the `prompt` event's payload (its `id` and `rule` are what count). */
  promptOutcome(prompt: Pick<PromptEvent, 'id' | 'rule'>, outcome: 'shown' | 'clicked' | 'dismissed'): void;
  setConsent(consent: 'granted' | 'pending' | 'denied'): void;
  flush(): Promise<void>;
  reset(): void;
  destroy(): void;
}

export declare function init(options: InitOptions): Promise<Pqlkit>;

/** GrowthBook-compatible condition evaluation, as rules use it. */
export declare function evalCondition(condition: Condition, attributes: Record<string, Json>, groups?: Record<string, Json[]>): Promise<boolean>;
