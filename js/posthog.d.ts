// Types of pqlkit/posthog (js/posthog.js). Structural: posthog-js is not needed to compile, and
// the hook fits both `posthog.on('eventCaptured', …)` and the `before_send` option.
import type { Pqlkit } from './index.js';

export interface PqlkitPosthogOptions {
  /** Forward `$pageview` events (default true). false leaves page views to pqlkit's autocapture. */
  page?: boolean;
  /** The PostHog group type that is pqlkit's account (default `'company'`, as the posthog beacon format writes it). */
  groupType?: string;
}

/** An event as posthog-js captures it (its `CaptureResult`), as far as pqlkit reads it. */
export interface PosthogEventLike {
  event: string;
  properties?: Record<string, any>;
  $set?: Record<string, any>;
}

/** Feeds `pql` with each event and hands it back unchanged. Throws a `PqlkitError` (`invalid_argument`) when `pql` is no pqlkit instance. */
export declare function pqlkitPlugin(pql: Pqlkit, options?: PqlkitPosthogOptions): <E extends PosthogEventLike | null>(event: E) => E;

export default pqlkitPlugin;
