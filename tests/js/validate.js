// Test helper: pqlkit's own verdict on a rule set, as the list of error codes and paths.
import { init } from 'pqlkit';

export async function validateRules(rules) {
  try {
    const pql = await init({ rules, storage: 'memory' });
    pql.destroy();
    return [];
  } catch (error) {
    return error.errors.map((e) => `${e.code} ${e.path}`);
  }
}
