import type { Reason } from './score.ts';

/** The parts of a script the ranking reads. */
export interface RankableScript {
  keywords: string[];
  stages: string[];
  tags: string[];
  sopSteps: string[];
}

/** Where this customer is now. */
export interface FitFacts {
  stage: string | null;
  tagNames: string[];
  /** `templateId/stepId` of the SOP steps this contact's active enrolments are at. */
  activeSteps: string[];
  /** The customer's last messages, newest first. */
  recentTexts: string[];
}

const STAGE_NAMES: Record<string, string> = {
  new: '新客',
  first_purchase: '首购',
  repeat: '复购老客',
  dormant: '沉睡',
  churn_risk: '流失风险',
};

/** An SOP step in progress says most about what to say; then what the customer just asked; then who they are. */
const WEIGHTS = { sopStep: 40, keyword: 30, tag: 20, stage: 15 } as const;
const MAX_TAG_MATCHES = 2;

export type Ranked<T> = T & { fit: number; reasons: Reason[] };

/**
 * Orders scripts by fit for this customer now, each with the reasons it fits. Scripts that fit
 * nothing keep their library order after the ones that do, so the list is never empty.
 */
export function rankScripts<T extends RankableScript>(scripts: T[], facts: FitFacts): Array<Ranked<T>> {
  const tags = new Set(facts.tagNames);
  const steps = new Set(facts.activeSteps);
  const texts = facts.recentTexts.map((t) => t.toLowerCase());

  const ranked = scripts.map((script) => {
    const reasons: Reason[] = [];
    let fit = 0;
    const step = script.sopSteps.find((s) => steps.has(s));
    if (step) {
      fit += WEIGHTS.sopStep;
      reasons.push({ code: 'sop_step', value: step, text: `当前 SOP 步骤：${step}` });
    }
    const keyword = script.keywords.find((k) => texts.some((t) => t.includes(k.toLowerCase())));
    if (keyword) {
      fit += WEIGHTS.keyword;
      reasons.push({ code: 'keyword', value: keyword, text: `客户提到：${keyword}` });
    }
    for (const tag of script.tags.filter((t) => tags.has(t)).slice(0, MAX_TAG_MATCHES)) {
      fit += WEIGHTS.tag;
      reasons.push({ code: 'tag', value: tag, text: `匹配标签：${tag}` });
    }
    if (facts.stage && script.stages.includes(facts.stage)) {
      fit += WEIGHTS.stage;
      reasons.push({ code: 'stage', value: facts.stage, text: `适合阶段：${STAGE_NAMES[facts.stage] ?? facts.stage}` });
    }
    return { ...script, fit, reasons };
  });
  // Array.prototype.sort is stable: equal fits keep the library's order.
  return ranked.sort((a, b) => b.fit - a.fit);
}
