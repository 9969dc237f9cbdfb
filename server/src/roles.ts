import type { Config } from './config/index.ts';

/** What one instance runs, from ROLE: web and worker instances scale apart on one store. */
export interface RolePlan {
  /** Every HTTP module (callbacks, APIs, pages); otherwise only /healthz and /metrics. */
  servesApp: boolean;
  /** Queue workers, the leased singletons (SOP tick, customer-index refresh) and the bot. */
  runsWork: boolean;
}

export function rolePlan(role: Config['role']): RolePlan {
  return { servesApp: role !== 'worker', runsWork: role !== 'web' };
}
