import mongoose from 'mongoose';
import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { BUSY_ERRCODES, WecomApiError, type WecomClient } from '../wecom/index.ts';
import type { RepTaskModel } from './model.ts';

export interface TaskRemindersDeps {
  tasks: RepTaskModel;
  client: Pick<WecomClient, 'message'>;
  /** The app (agentid) the reminder comes from; its visible range must include the reps. */
  agentId: number;
  /** Customer display names for the message (the contacts module). */
  customerNames: (externalUserIds: string[]) => Promise<Map<string, string>>;
  registry: Registry;
  logger: Logger;
  timeZone: string;
  now?: () => Date;
}

/** A task due longer ago than this is in the rep's inbox already; a late reminder would only be noise. */
const CATCH_UP_MS = 24 * 3_600_000;
const BATCH = 100;
/** WeCom said "busy, not done" (-1, 45009...): tried again on the next passes, this many times in all. */
const MAX_ATTEMPTS = 3;

type Outcome = 'sent' | 'retrying' | 'failed' | 'not_delivered';

/**
 * Sends each rep a WeCom app message when one of their tasks comes due, once per due time (a snooze
 * sets a new one). Every working instance runs the pass; the reminder is claimed by clearing
 * `remindAt` in one conditional update, so only one instance sends it.
 */
export class TaskReminders {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly outcomes: Counter<'outcome'>;
  private readonly dueTime: Intl.DateTimeFormat;
  private ticker: ScheduledTask | undefined;

  constructor(private readonly deps: TaskRemindersDeps) {
    this.log = deps.logger.child({ module: 'task-reminders' });
    this.now = deps.now ?? (() => new Date());
    this.dueTime = new Intl.DateTimeFormat('zh-CN', { timeZone: deps.timeZone, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
    this.outcomes = new Counter({
      name: 'task_reminders_total',
      help: 'Due-task app messages to reps, by outcome (sent, retrying after a busy WeCom, failed, not_delivered to an unknown or unlicensed rep)',
      labelNames: ['outcome'],
      registers: [deps.registry],
    });
  }

  /** One pass: reminds every rep whose task came due within the catch-up window; returns the outcomes. */
  async tick(): Promise<Record<Outcome, number>> {
    const now = this.now();
    const due = await this.deps.tasks
      .find(
        {
          remindAt: mongoose.trusted({ $lte: now, $gt: new Date(now.getTime() - CATCH_UP_MS) }),
          status: mongoose.trusted({ $in: ['open', 'snoozed'] }),
          userId: mongoose.trusted({ $ne: null }),
        },
        { externalUserId: 1, userId: 1, title: 1, detail: 1, dueAt: 1, remindAt: 1, reminderAttempts: 1 },
      )
      .sort({ remindAt: 1 })
      .limit(BATCH)
      .lean();
    const counts: Record<Outcome, number> = { sent: 0, retrying: 0, failed: 0, not_delivered: 0 };
    if (due.length === 0) return counts;
    const names = await this.deps.customerNames([...new Set(due.map((t) => t.externalUserId))]);
    for (const task of due) {
      const claimed = await this.deps.tasks.updateOne(
        { _id: task._id, remindAt: task.remindAt },
        { $set: { remindAt: null, remindedAt: now }, $inc: { reminderAttempts: 1 } },
      );
      if (claimed.modifiedCount !== 1) continue; // another instance has it
      const outcome = await this.send({ ...task, userId: task.userId!, remindAt: task.remindAt ?? null, customer: names.get(task.externalUserId) ?? '' });
      counts[outcome] += 1;
      this.outcomes.inc({ outcome });
    }
    return counts;
  }

  private async send(task: { _id: unknown; userId: string; title: string; detail: string; dueAt: Date; remindAt: Date | null; reminderAttempts: number; customer: string }): Promise<Outcome> {
    const recordError = (error: string | null) => this.deps.tasks.updateOne({ _id: task._id }, { $set: { reminderError: error } });
    try {
      const sent = await this.deps.client.message.send({ touser: [task.userId], agentid: this.deps.agentId, msgtype: 'text', text: { content: this.text(task) } });
      if (sent.invalidUsers.includes(task.userId.toLowerCase())) {
        await recordError('企业微信未送达：该成员不在应用可见范围或未获得许可');
        return 'not_delivered';
      }
      await recordError(null);
      return 'sent';
    } catch (err) {
      const busy = err instanceof WecomApiError && BUSY_ERRCODES.has(err.errcode);
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ err, taskId: String(task._id), userId: task.userId }, 'task reminder not sent');
      // Only a refusal WeCom says it did not carry out is tried again: any other failure may hide a delivered message.
      if (busy && task.reminderAttempts + 1 < MAX_ATTEMPTS) {
        await this.deps.tasks.updateOne({ _id: task._id, remindAt: null, dueAt: task.dueAt }, { $set: { remindAt: task.remindAt, reminderError: message } });
        return 'retrying';
      }
      await recordError(message);
      return 'failed';
    }
  }

  private text(task: { title: string; detail: string; dueAt: Date; customer: string }): string {
    const due = this.dueTime.format(task.dueAt);
    return [
      `【待办到期】${task.title}`,
      ...(task.customer ? [`客户：${task.customer}`] : []),
      `截止：${due}`,
      ...(task.detail ? [task.detail] : []),
      '在侧边栏「我的待办」里完成或推迟。',
    ].join('\n');
  }

  /** The minute pass on node-cron. */
  start(): void {
    this.ticker = schedule(
      '* * * * *',
      () =>
        this.tick().then(
          (counts) => void (Object.values(counts).some(Boolean) && this.log.info(counts, 'task reminders')),
          (err: unknown) => this.log.error({ err }, 'task reminder pass failed'),
        ),
      { noOverlap: true, suppressMissedWarning: true, name: 'task-reminders' },
    );
  }

  async stop(): Promise<void> {
    await this.ticker?.destroy();
    this.ticker = undefined;
  }
}
