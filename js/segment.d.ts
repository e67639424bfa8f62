// Types of pqlkit/segment (js/segment.js). Structural: @segment/analytics-next is not needed to
// compile, and the plugin is assignable to its `Plugin` where it is installed.
import type { Pqlkit } from './index.js';

export interface PqlkitSegmentOptions {
  /** Forward `page` calls (default true). false leaves page views to pqlkit's autocapture. */
  page?: boolean;
}

/** A Segment destination plugin named `pqlkit` for `analytics.register(...)`. */
export interface PqlkitSegmentPlugin {
  name: 'pqlkit';
  type: 'destination';
  isLoaded(): boolean;
  load(ctx: unknown, analytics: unknown): Promise<unknown>;
  track<Ctx>(ctx: Ctx): Ctx;
  page<Ctx>(ctx: Ctx): Ctx;
  identify<Ctx>(ctx: Ctx): Ctx;
  group<Ctx>(ctx: Ctx): Ctx;
}

/** Feeds `pql` from analytics.js: `analytics.register(pqlkitPlugin(pql))`. Throws a `PqlkitError` (`invalid_argument`) when `pql` is no pqlkit instance. */
export declare function pqlkitPlugin(pql: Pqlkit, options?: PqlkitSegmentOptions): PqlkitSegmentPlugin;

export default pqlkitPlugin;
