import type { Connection } from 'mongoose';
import { ChurnRisk, type ChurnRiskDeps } from './service.ts';
import { registerChurnModel } from './models.ts';

export { churnScore, rhythmDays, RULE, type ChurnFacts, type ChurnReason, type ChurnScore, type ReasonCode } from './rule.ts';
export { ChurnRisk, type ChurnScored, type ChurnView, type ChurnRiskDeps } from './service.ts';
export { registerChurnModel, type ChurnScoreModel, type ChurnScoreRecord } from './models.ts';

/** The churn module on a connection: its collection (churn_scores) and the scorer over it. */
export async function createChurnRisk(deps: Omit<ChurnRiskDeps, 'model'> & { connection: Connection }): Promise<ChurnRisk> {
  const model = registerChurnModel(deps.connection);
  await model.init();
  const { connection: _connection, ...rest } = deps;
  return new ChurnRisk({ ...rest, model });
}
