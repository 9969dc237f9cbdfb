import mongoose, { type HydratedDocument } from 'mongoose';
import { MediaSourceError } from '../media/index.ts';
import { DeferWork, PermanentFailure, workFieldsFor } from '../queue/index.ts';
import {
  findCreatedTask,
  localDay,
  quietUntil,
  recordSend,
  renderContent,
  toWecomAttachments,
  type MediaIds,
} from '../sop/index.ts';
import { RepNames, WecomApiError, type WecomClient } from '../wecom/index.ts';
import { splitAudience, type AudienceDeps } from './audience.ts';
import type { MassSend, MassSendModels, MassSendRep } from './models.ts';

/** WeCom's limit of external_userid per add_msg_template. */
export const MAX_PER_CALL = 10_000;
/** Ledger writes in flight at once while a part claims its customers' cap slots. */
const CLAIM_PARALLEL = 20;

export interface SenderDeps extends AudienceDeps {
  models: MassSendModels;
  client: WecomClient;
  media: MediaIds | null;
  now: () => Date;
}

/** The ledger key of one target of one mass send: shared by every part, so a target is claimed once. */
export const ledgerKey = (massSendId: unknown, target: string) => `mass:${String(massSendId)}:${target}`;

/** Turns due mass sends into per-rep parts, and sends each part as one WeCom task. */
export class MassSender {
  private readonly repNames: RepNames;

  constructor(private readonly deps: SenderDeps) {
    this.repNames = new RepNames((userId) => deps.client.user.get(userId));
  }

  /** The mass send is due: split its audience into parts (keyed, so a rerun after a crash adds none twice). */
  async plan(massSend: HydratedDocument<MassSend>): Promise<void> {
    if (massSend.state !== 'scheduled') return; // cancelled, or split already
    const now = this.deps.now();
    const quiet = quietUntil(now, massSend.quietHours, massSend.timeZone);
    if (quiet) throw new DeferWork(quiet, 'quiet hours');
    const split = await splitAudience(this.deps, massSend.audience, null);
    const parts = [...split.perRep].flatMap(([userId, targets]) =>
      chunk(targets, MAX_PER_CALL).map((slice, part) => ({
        key: `${massSend._id}:${userId}:${part}`,
        massSendId: massSend._id,
        userId,
        part,
        chatType: split.chatType,
        targets: slice,
        targetCount: slice.length,
        state: 'queued' as const,
        ...workFieldsFor(now),
      })),
    );
    if (parts.length) {
      await this.deps.models.RepPart.bulkWrite(
        parts.map((p) => ({ updateOne: { filter: { key: p.key }, update: { $setOnInsert: p }, upsert: true } })),
        { ordered: false },
      );
    }
    await this.deps.models.MassSend.updateOne(
      { _id: massSend._id, state: 'scheduled' },
      { $set: { state: parts.length ? 'sending' : 'sent', skipped: split.skipped } },
    );
  }

  /**
   * Sends one part: claims each target's ledger entry (and, for customers, a cap slot), marks the part
   * `sending`, then creates the WeCom task. A part found `sending` began a call before (a crash, a -1
   * answer): WeCom may have acted, so its task list is searched before calling again.
   */
  async send(massSend: MassSend & { _id: mongoose.Types.ObjectId }, part: HydratedDocument<MassSendRep>): Promise<void> {
    const { RepPart } = this.deps.models;
    const now = this.deps.now();
    const quiet = quietUntil(now, massSend.quietHours, massSend.timeZone);
    if (quiet) throw new DeferWork(quiet, 'quiet hours');

    if (part.state === 'queued') {
      const text = await this.render(massSend, part.userId, now);
      const claimed = await this.claim(massSend, part, text, now);
      const fields = { state: 'sending' as const, text, recipients: claimed.recipients, capped: claimed.capped, sendStartedAt: now };
      part.set(fields);
      await RepPart.updateOne({ _id: part._id }, { $set: fields });
    } else {
      const others = await RepPart.distinct('msgid', { massSendId: massSend._id, _id: mongoose.trusted({ $ne: part._id }), msgid: mongoose.trusted({ $type: 'string' }) });
      const existing = await findCreatedTask(this.deps.client, {
        chatType: part.chatType,
        creator: part.userId,
        text: part.text,
        since: part.sendStartedAt ?? now,
        exclude: new Set(others.map(String)),
      });
      if (existing) return this.markSent(massSend, part, existing, [], now);
    }
    if (part.recipients.length === 0) {
      await RepPart.updateOne({ _id: part._id }, { $set: { state: 'skipped' } });
      part.state = 'skipped';
      return;
    }

    try {
      const attachments = await toWecomAttachments(massSend.content.attachments, this.deps.media);
      const isGroup = part.chatType === 'group';
      const created = await this.deps.client.massSend.addTemplate({
        chat_type: part.chatType,
        sender: part.userId,
        ...(isGroup ? { chat_id_list: part.recipients } : { external_userid: part.recipients }),
        text: { content: part.text },
        ...(attachments.items.length ? { attachments: attachments.items } : {}),
      });
      await this.markSent(massSend, part, created.msgid, created.fail_list, now);
    } catch (err) {
      if (!isRefusal(err)) throw err; // retried; the part stays `sending`, so the retry looks for the task first
      const error = err instanceof Error ? err.message : String(err);
      await this.deps.sends.updateMany({ key: mongoose.trusted({ $in: part.recipients.map((t) => ledgerKey(massSend._id, t)) }) }, { $set: { state: 'failed' } });
      await RepPart.updateOne({ _id: part._id }, { $set: { state: 'failed', error, failed: part.recipients.length, pending: 0 } });
      part.state = 'failed';
    }
  }

  /** After the last part has gone (or failed), the mass send is sent (or failed, when every part failed). */
  async settle(massSendId: mongoose.Types.ObjectId): Promise<void> {
    const { RepPart, MassSend } = this.deps.models;
    if (await RepPart.exists({ massSendId, state: mongoose.trusted({ $in: ['queued', 'sending'] }) })) return;
    const anyWent = await RepPart.exists({ massSendId, state: mongoose.trusted({ $in: ['sent', 'skipped'] }) });
    await MassSend.updateOne({ _id: massSendId, state: 'sending' }, { $set: { state: anyWent ? 'sent' : 'failed' } });
  }

  private async markSent(massSend: { _id: mongoose.Types.ObjectId }, part: HydratedDocument<MassSendRep>, msgid: string, failList: string[], now: Date): Promise<void> {
    const refused = new Set(failList);
    const keys = (targets: string[]) => mongoose.trusted({ $in: targets.map((t) => ledgerKey(massSend._id, t)) });
    await this.deps.sends.updateMany({ key: keys(part.recipients.filter((t) => !refused.has(t))) }, { $set: { state: 'sent', msgid } });
    if (refused.size) await this.deps.sends.updateMany({ key: keys([...refused]) }, { $set: { state: 'failed' } });
    const fields = { state: 'sent' as const, msgid, failList, failed: refused.size, pending: part.recipients.length - refused.size, sentAt: now };
    await this.deps.models.RepPart.updateOne({ _id: part._id }, { $set: fields });
    part.set(fields);
  }

  /**
   * Each target's ledger entry. Customers need one of their day's cap slots (shared with SOP plans);
   * groups are not capped, as in SOP. An entry recorded before (a rerun) still belongs to this part.
   */
  private async claim(massSend: MassSend & { _id: mongoose.Types.ObjectId }, part: MassSendRep, text: string, now: Date) {
    const day = localDay(now, massSend.timeZone);
    const marketing = part.chatType === 'single';
    const recipients: string[] = [];
    let capped = 0;
    for (const slice of chunk(part.targets, CLAIM_PARALLEL)) {
      const results = await Promise.all(
        slice.map((targetId) =>
          recordSend(
            this.deps.sends,
            { key: ledgerKey(massSend._id, targetId), targetId, day, channel: 'mass_send', marketing, text, at: now, sender: part.userId },
            this.deps.guardrails.frequencyCapPerDay,
          ),
        ),
      );
      results.forEach((result, i) => (result === 'capped' ? capped++ : recipients.push(slice[i]!)));
    }
    return { recipients, capped };
  }

  /** One text per rep's task (WeCom sends the same to every customer): only {{rep}} and {{date}} can be filled. */
  private async render(massSend: MassSend, userId: string, now: Date): Promise<string> {
    const rep = await this.repNames.name(userId);
    return renderContent(massSend.content.text, { rep, date: localDay(now, massSend.timeZone) }).text;
  }
}

/** Refusals retrying cannot change; -1 leaves it unknown whether WeCom acted, so it is retried (looking first). */
function isRefusal(err: unknown): boolean {
  if (err instanceof MediaSourceError) return !err.retryable;
  if (err instanceof PermanentFailure) return true;
  return err instanceof WecomApiError && err.errcode !== -1 && !err.retryable;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
