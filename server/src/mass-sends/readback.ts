import mongoose, { type HydratedDocument, type Model } from 'mongoose';
import type { Logger } from '../observability/index.ts';
import { DeferWork } from '../queue/index.ts';
import { deliveryOf, sendResults, type Delivery, type SendRecord } from '../sop/index.ts';
import { createRepTask, type RepTaskModel } from '../tasks/index.ts';
import type { WecomClient } from '../wecom/index.ts';
import type { MassSend, MassSendModels, MassSendRep } from './models.ts';
import { ledgerKey } from './sender.ts';

export interface ReadBackDeps {
  models: MassSendModels;
  sends: Model<SendRecord>;
  client: WecomClient;
  tasks: RepTaskModel;
  logger: Logger;
  now: () => Date;
  /** How often a part's results are read while anything is pending. */
  everyMs: number;
  /** A rep who has not confirmed this long after the task was created gets one reminder task. */
  remindAfterMs: number;
  /** After this, a part still pending is left as it is (WeCom's tasks do not stay open forever). */
  trackForMs: number;
}

/** get_groupmsg_task status 2: the rep sent it from the client. */
const REP_SENT = 2;
/** Failed reads of one part in a row before it is given up (the wait doubling from everyMs, at most MAX_BACKOFF_MS). */
const MAX_READ_FAILURES = 8;
const MAX_BACKOFF_MS = 6 * 3_600_000;

/**
 * Reads back one sent part from WeCom: whether the rep confirmed, and per recipient sent, not a
 * friend, over the receive limit, or still pending. Comes back (a deferral, not an attempt) until
 * nothing is pending or the tracking window ends. A failed read is recorded on the part and retried,
 * backing off, until MAX_READ_FAILURES or the window's end, when it is given up with the reason kept;
 * since each part is its own work item, it never holds up another.
 */
export class ReadBack {
  constructor(private readonly deps: ReadBackDeps) {}

  async check(massSend: MassSend & { _id: mongoose.Types.ObjectId }, part: HydratedDocument<MassSendRep>): Promise<void> {
    const now = this.deps.now();
    const next = new Date(now.getTime() + this.deps.everyMs);
    const sentFor = now.getTime() - (part.sentAt ?? now).getTime();
    let read: Awaited<ReturnType<ReadBack['read']>>;
    try {
      read = await this.read(part.msgid!, part.userId);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const failures = (part.readBackFailures ?? 0) + 1;
      // A msgid WeCom no longer knows (40058) never becomes readable: asking for ever only burns quota.
      const givenUp = failures >= MAX_READ_FAILURES || sentFor >= this.deps.trackForMs;
      this.deps.logger.warn({ err, massSendId: String(massSend._id), userId: part.userId, failures, givenUp }, 'mass-send read-back failed');
      await this.deps.models.RepPart.updateOne(
        { _id: part._id },
        { $set: { readBackError: message, readBackFailures: failures, readBackGivenUpAt: givenUp ? now : null, checkedAt: now } },
      );
      if (givenUp) return;
      const backoff = Math.min(this.deps.everyMs * 2 ** (failures - 1), MAX_BACKOFF_MS);
      throw new DeferWork(new Date(now.getTime() + backoff), 'read-back failed');
    }
    const { counts, delivered, pendingTargets, confirmedAt } = read;
    await this.deps.models.RepPart.updateOne({ _id: part._id }, { $set: { ...counts, confirmedAt, checkedAt: now, readBackError: null, readBackFailures: 0 } });
    await this.recordDeliveries(massSend._id, delivered);

    if (counts.pending > 0 && !part.remindedAt && sentFor >= this.deps.remindAfterMs) await this.remind(massSend, part, counts.pending, pendingTargets[0]!, now);
    if (counts.pending > 0 && sentFor < this.deps.trackForMs) throw new DeferWork(next, 'awaiting the rep');
  }

  private async read(msgid: string, userId: string) {
    const counts = { sent: 0, pending: 0, notFriend: 0, overLimit: 0 };
    const delivered: Array<{ target: string; delivery: Delivery; at: Date | null }> = [];
    const pendingTargets: string[] = [];
    let confirmedAt: Date | null = null;
    let cursor: string | undefined;
    do {
      const page = await this.deps.client.massSend.getTask({ msgid, limit: 1000, ...(cursor ? { cursor } : {}) });
      const mine = page.task_list.find((t) => t.userid === userId);
      if (mine?.status === REP_SENT) confirmedAt = mine.send_time ? new Date(mine.send_time * 1000) : this.deps.now();
      cursor = mine ? undefined : page.next_cursor || undefined;
    } while (cursor);
    for await (const result of sendResults(this.deps.client, msgid, userId)) {
      const target = result.external_userid ?? result.chat_id;
      const delivery = deliveryOf(result.status);
      if (delivery === 'delivered') counts.sent++;
      else if (delivery === 'not_friend') counts.notFriend++;
      else if (delivery === 'already_received') counts.overLimit++;
      else counts.pending++;
      if (!target) continue;
      if (delivery) delivered.push({ target, delivery, at: result.send_time ? new Date(result.send_time * 1000) : null });
      else pendingTargets.push(target);
    }
    return { counts, delivered, pendingTargets, confirmedAt };
  }

  /** The shared ledger learns the outcome too (the sidebar's and analytics' view of what reached a customer). */
  private async recordDeliveries(massSendId: mongoose.Types.ObjectId, delivered: Array<{ target: string; delivery: Delivery; at: Date | null }>) {
    if (delivered.length === 0) return;
    await this.deps.sends.bulkWrite(
      delivered.map((d) => ({
        updateOne: {
          filter: { key: ledgerKey(massSendId, d.target), delivery: null },
          update: { $set: { delivery: d.delivery, deliveredAt: d.at ?? this.deps.now(), checkedAt: this.deps.now() } },
        },
      })),
      { ordered: false },
    );
  }

  /**
   * One task per rep and mass send (keyed), whatever the number of parts. A rep task belongs to a
   * customer in the sidebar, so it hangs on the first customer still waiting.
   */
  private async remind(massSend: MassSend & { _id: mongoose.Types.ObjectId }, part: MassSendRep, pending: number, firstPending: string, now: Date) {
    await createRepTask(this.deps.tasks, {
      key: `mass-send:${massSend._id}:${part.userId}:confirm`,
      externalUserId: firstPending,
      userId: part.userId,
      title: `确认群发「${massSend.name}」`,
      detail: `还有 ${pending} 位客户在等你确认发送：打开企业微信 → 客户联系 → 群发助手，点「发送」。`,
      dueAt: now,
      source: { massSendId: String(massSend._id), massSend: massSend.name },
    });
    await this.deps.models.RepPart.updateMany({ massSendId: massSend._id, userId: part.userId }, { $set: { remindedAt: now } });
  }
}
