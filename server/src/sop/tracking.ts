import mongoose from 'mongoose';
import type { WecomClient } from '../wecom/index.ts';
import type { SopModels } from './models.ts';

export type Delivery = 'delivered' | 'not_friend' | 'already_received';

/** WeCom's per-recipient status in get_groupmsg_send_result (0, not sent yet, is absent). */
const DELIVERY: Record<number, Delivery | undefined> = {
  1: 'delivered',
  2: 'not_friend',
  // The customer already got another mass message in WeCom's own quota window: our cap was not enough.
  3: 'already_received',
};

/** What WeCom reports for one recipient: null while the rep has not sent it. */
export const deliveryOf = (status: number): Delivery | null => DELIVERY[status] ?? null;

/** Every recipient of a rep's part of a mass-send task, page by page. */
export async function* sendResults(client: WecomClient, msgid: string, userid: string) {
  let cursor: string | undefined;
  do {
    const page = await client.massSend.getSendResult({ msgid, userid, limit: 1000, ...(cursor ? { cursor } : {}) });
    yield* page.send_list;
    cursor = page.next_cursor || undefined;
  } while (cursor);
}

/**
 * A task a sender created before a crash or an unclear (-1) answer: same creator and text, created
 * since the send began, and not one we already know. WeCom has no idempotency key, so this is how a
 * resumed send avoids creating a second task.
 */
export async function findCreatedTask(
  client: WecomClient,
  query: { chatType: 'single' | 'group'; creator: string | null; text: string; since: Date; exclude?: ReadonlySet<string> },
): Promise<string | null> {
  const start = Math.floor(query.since.getTime() / 1000) - 60;
  const page = await client.massSend.getGroupMsgListV2({
    chat_type: query.chatType,
    start_time: start,
    end_time: start + 86_400,
    ...(query.creator ? { creator: query.creator } : {}),
    limit: 100,
  });
  const match = page.group_msg_list.find((m) => m.text?.content === query.text && !query.exclude?.has(m.msgid));
  return match?.msgid ?? null;
}

const BATCH = 50;
const TRACK_FOR_DAYS = 3;
/** Read-back failures of one send before it is given up (backing off 1, 2, 4... minutes, at most an hour). */
const MAX_READ_FAILURES = 8;
const backoffMs = (failures: number) => Math.min(60_000 * 2 ** (failures - 1), 3_600_000);

/**
 * A mass send only creates a task; the rep confirms it in the WeCom client, or never does. Reads back
 * what happened to the oldest-checked open sends, a batch per call (the engine calls it every minute).
 * WeCom refusing one send (40058: a msgid it no longer knows) is that send's business: it is retried
 * later, given up with the reason after MAX_READ_FAILURES, and never holds back the others.
 */
export async function trackMassSends(deps: { models: SopModels; client: WecomClient; now: Date }): Promise<Record<string, number>> {
  const { Send } = deps.models;
  const open = await Send.find({
    delivery: 'pending',
    at: mongoose.trusted({ $gte: new Date(deps.now.getTime() - TRACK_FOR_DAYS * 86_400_000) }),
    $or: [{ nextCheckAt: null }, { nextCheckAt: mongoose.trusted({ $lte: deps.now }) }],
  })
    .sort({ checkedAt: 1 })
    .limit(BATCH)
    .lean();
  const counts: Record<string, number> = {};
  const count = (status: string) => void (counts[status] = (counts[status] ?? 0) + 1);
  for (const send of open) {
    if (!send.msgid || !send.sender) continue;
    let page;
    try {
      page = await deps.client.massSend.getSendResult({ msgid: send.msgid, userid: send.sender, limit: 1000 });
    } catch (err) {
      const failures = (send.readFailures ?? 0) + 1;
      const givenUp = failures >= MAX_READ_FAILURES;
      await Send.updateOne(
        { _id: send._id },
        {
          $set: {
            checkedAt: deps.now,
            readFailures: failures,
            readError: err instanceof Error ? err.message : String(err),
            nextCheckAt: givenUp ? null : new Date(deps.now.getTime() + backoffMs(failures)),
            ...(givenUp ? { delivery: 'unreadable' } : {}),
          },
        },
      );
      count(givenUp ? 'unreadable' : 'read_error');
      continue;
    }
    const entry = page.send_list.find((r) => r.external_userid === send.targetId || r.chat_id === send.targetId);
    const delivery = entry ? deliveryOf(entry.status) : null;
    await Send.updateOne(
      { _id: send._id },
      {
        $set: {
          checkedAt: deps.now,
          nextCheckAt: null,
          ...(delivery ? { delivery, deliveredAt: entry?.send_time ? new Date(entry.send_time * 1000) : deps.now } : {}),
        },
      },
    );
    count(delivery ?? 'pending');
  }
  return counts;
}
