import type { Step } from '../../../shared/journey.ts';
import type { Translate } from '../../../shared/schedule.ts';
import { isJump } from '../journeys/flow.ts';

/** One row of GET /api/admin/sop/plans/:id/jobs. */
export interface Job {
  _id: string;
  stepId: string;
  targetId: string;
  status: string;
  /** The journey version the target was enrolled on (contract-13). */
  version?: number;
  outcome: string | null;
  detail?: Record<string, unknown> | null;
  attempts: number;
  dueAt: string;
  lastError: string | null;
  send: { state: string; delivery: string | null; deliveredAt: string | null; readError?: string | null; readFailures?: number } | null;
}

/** The engine's job statuses and outcomes (server/src/sop/models.ts): each has words in the message tables. */
export const JOB_STATUSES = ['pending', 'running', 'done', 'dead'] as const;
export const JOB_OUTCOMES = [
  'sent', 'task_created', 'tagged', 'branched', 'capped', 'held_missing_variable', 'opted_out', 'skipped_late', 'code_expired',
  'chat_started', 'no_welcome_code', 'no_relation', 'bot_unavailable', 'exited', 'plan_disabled', 'failed',
] as const;
const known = <T extends string>(list: readonly T[], code: string): code is T => (list as readonly string[]).includes(code);

/**
 * What the operator calls the step: its name in the plan's journey, else its type in words and its id.
 * A hidden jump is the point where a branch's lanes meet again, so it reads 汇合 (the editor never shows it).
 * A step missing from the newest journey ran on an older version; its id is all that is left.
 */
export function stepLabel(steps: readonly Step[] | undefined, stepId: string, t: Translate): { text: string; join: boolean } {
  const step = steps?.find((s) => s.id === stepId);
  if (!step) return { text: t('console.sop.jobsView.stepGone', { id: stepId }), join: false };
  if (isJump(step)) return { text: t('console.sop.jobsView.join'), join: true };
  return { text: step.name?.trim() || `${t(`console.journey.stepTypes.${step.type}`)} ${step.id}`, join: false };
}

export const statusWords = (status: string, t: Translate): string => (known(JOB_STATUSES, status) ? t(`console.sop.jobStatus.${status}`) : status);

/** `timeZone`: the plan's, for the day a capped message was moved to. */
export function outcomeWords(job: Pick<Job, 'outcome' | 'detail'>, t: Translate, timeZone = 'Asia/Shanghai'): string {
  const code = job.outcome;
  const deferredTo = typeof job.detail?.deferredTo === 'string' ? zonedTime(job.detail.deferredTo, timeZone) : null;
  // Still waiting: the frequency cap moved it to another day (drop/defer is the plan's 频次上限处理).
  if (!code) return deferredTo ? t('console.sop.jobsView.deferred', { at: deferredTo }) : '—';
  if (code === 'sent' && deferredTo) return t('console.sop.jobsView.sentDeferred', { at: deferredTo });
  if (code === 'capped' && job.detail?.beyondCatchUp) return t('console.sop.jobsView.cappedBeyondCatchUp', { hours: String(job.detail.maxLatenessHours ?? '') });
  if (code === 'held_missing_variable' && Array.isArray(job.detail?.variables)) {
    return t('console.sop.jobsView.missingVariables', { variables: job.detail.variables.join('、') });
  }
  // A branch says which lane it took: that is what the operator wants to know from the row.
  if (code === 'branched' && typeof job.detail?.holds === 'boolean') return t(job.detail.holds ? 'console.sop.jobsView.branchedYes' : 'console.sop.jobsView.branchedNo');
  return known(JOB_OUTCOMES, code) ? t(`console.sop.outcomes.${code}`) : code;
}

/** 2026-05-03 10:00 on the plan's clock: the engine schedules in the plan's zone, not the browser's. */
export function zonedTime(value: string | Date | null | undefined, timeZone: string): string {
  if (!value) return '—';
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false })
      .formatToParts(new Date(value))
      .map((p) => [p.type, p.value]),
  );
  // Intl writes midnight as 24 in some engines with hour12: false.
  const hour = parts.hour === '24' ? '00' : parts.hour;
  return `${parts.year}-${parts.month}-${parts.day} ${hour}:${parts.minute}`;
}
