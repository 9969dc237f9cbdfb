/** Lifecycle stages as the server computes them (its sop module's STAGES); names are `common.stage.<id>`. */
export const STAGES = ['new', 'first_purchase', 'repeat', 'dormant', 'churn_risk'] as const;
export type Stage = (typeof STAGES)[number];
