// pqlkit/validate: the authoring validator (every problem, with its message), loaded lazily.
import type { Condition, Json, ValidationProblem } from './index.js';

export interface ValidationReport {
  valid: boolean;
  /** Every problem found, in document order; empty when the rule set is valid. */
  errors: ValidationProblem[];
}

/** Validates a rule set (an object, or its JSON text) as `pqlkit validate` does. Never rejects for a bad rule set. */
export declare function validate(rules: unknown): Promise<ValidationReport>;

/** GrowthBook-compatible condition evaluation, as rules use it. */
export declare function evalCondition(condition: Condition, attributes: Record<string, Json>, groups?: Record<string, Json[]>): Promise<boolean>;

/** A duration as rule sets write them (`"90s" "30m" "24h" "7d" "2w"`) in milliseconds, or null when it is not one. */
export declare function parseDuration(text: string): Promise<number | null>;
