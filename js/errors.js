/**
 * The one error type pqlkit rejects or reports with. `code` is stable; `path` points into the
 * rule set (`rules[1].when.all[0].within`) when the problem is there; `errors` lists every
 * validation problem when a rule set is rejected.
 */
export class PqlkitError extends Error {
  /**
   * @param {import('pqlkit').ErrorCode} code
   * @param {string} message
   * @param {{ path?: string, errors?: import('pqlkit').ValidationProblem[], cause?: unknown }} [detail]
   */
  constructor(code, message, { path = '', errors = [], cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PqlkitError';
    this.code = code;
    this.path = path;
    this.errors = errors;
  }
}
