import mongoose from 'mongoose';
import type { WecomClient } from '../wecom/index.ts';
import type { SopModels } from './models.ts';

/** WeCom's per-recipient status in get_groupmsg_send_result. */
const DELIVERY: Record<number, 'delivered' | 'not_friend' | 'already_received' | undefined> = {
  1: 'delivered',
  2: 'not_friend',
  // The customer already got another mass message in WeCom's own quota window: our cap was not enough.
  3: 'already_received',
};

const BATCH = 50;
const TRACK_FOR_DAYS = 3;

/**
 * A mass send only creates a task; the rep confirms it in the WeCom client, or never does. Reads back
 * what happened to the oldest-checked open sends, a batch per call (the engine calls it every minute).
 */
export async function trackMassSends(deps: { models: SopModels; client: WecomClient; now: Date }): Promise<Record<string, number>> {
  const { Send } = deps.models;
  const open = await Send.find({
    delivery: 'pending',
    at: mongoose.trusted({ $gte: new Date(deps.now.getTime() - TRACK_FOR_DAYS * 86_400_000) }),
  })
    .sort({ checkedAt: 1 })
    .limit(BATCH)
    .lean();
  const counts: Record<string, number> = {};
  for (const send of open) {
    if (!send.msgid || !send.sender) continue;
    const page = await deps.client.massSend.getSendResult({ msgid: send.msgid, userid: send.sender, limit: 1000 });
    const entry = page.send_list.find((r) => r.external_userid === send.targetId || r.chat_id === send.targetId);
    const delivery = entry ? DELIVERY[entry.status] : undefined;
    await Send.updateOne(
      { _id: send._id },
      {
        $set: {
          checkedAt: deps.now,
          ...(delivery ? { delivery, deliveredAt: entry?.send_time ? new Date(entry.send_time * 1000) : deps.now } : {}),
        },
      },
    );
    counts[delivery ?? 'pending'] = (counts[delivery ?? 'pending'] ?? 0) + 1;
  }
  return counts;
}
