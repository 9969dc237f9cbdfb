import type { Condition, Delay, Step, Trigger } from '../../../shared/journey.ts';
import { scheduleWords, type Translate } from '../../../shared/schedule.ts';

/** The chip between two steps: 立即 / 等待 2 天 · 10:00 执行. */
export function delayWords(after: Delay | undefined, t: Translate): string {
  const parts = (['days', 'hours', 'minutes'] as const).filter((k) => after?.[k]).map((k) => t(`console.journey.wait.${k}`, { n: after![k] }));
  const at = after?.at ? t('console.journey.wait.at', { at: after.at }) : '';
  if (!parts.length) return at || t('console.journey.wait.now');
  return [`${t('console.journey.wait.prefix')} ${parts.join(' ')}`, at].filter(Boolean).join(' · ');
}

export type ConditionKind = 'replied' | 'notReplied' | 'bought' | 'notBought' | 'hasTag' | 'stage' | 'scoreAtLeast' | 'scoreAtMost';

export function conditionKind(c: Condition): ConditionKind {
  if ('replied' in c) return c.replied ? 'replied' : 'notReplied';
  if ('bought' in c) return c.bought ? 'bought' : 'notBought';
  if ('score' in c) return c.score.gte !== undefined ? 'scoreAtLeast' : 'scoreAtMost';
  return 'hasTag' in c ? 'hasTag' : 'stage';
}

/** The score a score condition compares with (the lower bound when it has both). */
export const conditionScore = (c: Condition): number | undefined => ('score' in c ? (c.score.gte ?? c.score.lte) : undefined);

export function conditionOf(kind: ConditionKind, value: string): Condition {
  switch (kind) {
    case 'replied':
    case 'notReplied':
      return { replied: kind === 'replied' };
    case 'bought':
    case 'notBought':
      return { bought: kind === 'bought' };
    case 'hasTag':
      return { hasTag: value };
    case 'stage':
      return { stage: value || 'new' };
    case 'scoreAtLeast':
    case 'scoreAtMost': {
      const n = Math.min(100, Math.max(0, Math.round(Number(value)) || 60));
      return { score: kind === 'scoreAtLeast' ? { gte: n } : { lte: n } };
    }
  }
}

export function conditionWords(c: Condition, t: Translate): string {
  const kind = conditionKind(c);
  const label = t(`console.journey.conditions.${kind}`);
  if ('hasTag' in c) return `${label}「${c.hasTag}」`;
  if ('stage' in c) return `${label}「${t(`common.stage.${c.stage}`)}」`;
  if ('score' in c) {
    const { gte, lte } = c.score;
    if (gte !== undefined && lte !== undefined) return t('console.journey.scoreBetween', { gte, lte });
    return `${label} ${gte ?? lte}`;
  }
  return label;
}

/** One line about what a step does, for its card in the flow. */
export function stepSummary(step: Step, t: Translate): string {
  switch (step.type) {
    case 'send_welcome':
    case 'mass_send':
    case 'bot_send': {
      const line = step.content.text.trim().split('\n')[0] ?? '';
      const more = step.content.attachments.length ? ` +${step.content.attachments.length}` : '';
      return (line.length > 40 ? `${line.slice(0, 40)}…` : line || t('console.journey.noText')) + more;
    }
    case 'tag':
      return [...step.add.map((x) => `+${x}`), ...step.remove.map((x) => `−${x}`)].join(' ') || '—';
    case 'rep_task':
      return step.title;
    case 'branch':
      return conditionWords(step.if, t);
  }
}

/** The start of the flow in one line: 新客添加 · 抖音 618 / 定时 · 每周一 10:00. */
export function triggerWords(trigger: Trigger, t: Translate, channelName: (state: string) => string = (s) => s): string {
  const label = t(`console.journey.triggers.${trigger.type}`);
  switch (trigger.type) {
    case 'contact_added':
      return trigger.channels.length ? `${label} · ${trigger.channels.map(channelName).join('、')}` : label;
    case 'contact_tagged':
      return `${label}「${trigger.tag}」`;
    case 'contact_silent':
      return `${t('console.sop.triggers.contact_silent', { days: trigger.days })}`;
    case 'order_placed':
    case 'contact_lost':
      return label;
    case 'churn_risk':
      return `${label} ≥ ${trigger.threshold}`;
    case 'schedule':
      return `${label} · ${scheduleWords(trigger, t)}`;
  }
}
