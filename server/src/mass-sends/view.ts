import mongoose from 'mongoose';
import type { MassSend, MassSendModels, MassSendRep } from './models.ts';

type Stored<T> = T & { _id: mongoose.Types.ObjectId };
type PartSummary = Omit<MassSendRep, 'targets' | 'recipients' | 'failList'>;

const COUNTS = ['targets', 'sent', 'pending', 'notFriend', 'overLimit', 'failed'] as const;
type Counts = Record<(typeof COUNTS)[number], number>;
const zero = (): Counts => ({ targets: 0, sent: 0, pending: 0, notFriend: 0, overLimit: 0, failed: 0 });

/** The lists are left in the store: a view needs only the counts. */
const SUMMARY = { targets: 0, recipients: 0, failList: 0 } as const;

/** Mass sends as the console shows them: per rep and in total, what WeCom reported back. */
export async function massSendViews(models: MassSendModels, massSends: Array<Stored<MassSend>>) {
  const parts = await models.RepPart.find({ massSendId: mongoose.trusted({ $in: massSends.map((m) => m._id) }) }, SUMMARY).sort({ userId: 1, part: 1 }).lean<Array<Stored<PartSummary>>>();
  return massSends.map((m) => view(m, parts.filter((p) => String(p.massSendId) === String(m._id))));
}

export async function massSendView(models: MassSendModels, massSend: Stored<MassSend>) {
  return (await massSendViews(models, [massSend]))[0]!;
}

function view(m: Stored<MassSend>, parts: PartSummary[]) {
  const byRep = new Map<string, ReturnType<typeof repView>>();
  for (const part of parts) {
    const rep = byRep.get(part.userId) ?? repView(part.userId);
    // Customers over the day's cap were planned but never asked for: they count as skipped, not as targets.
    add(rep, { targets: part.targetCount - part.capped, sent: part.sent, pending: part.pending, notFriend: part.notFriend, overLimit: part.overLimit, failed: part.failed });
    if (part.msgid) rep.msgids.push(part.msgid);
    rep.msgid ??= part.msgid;
    rep.capped += part.capped;
    rep.remindedAt ??= part.remindedAt;
    rep.confirmedAt ??= part.confirmedAt;
    rep.readBackError ??= part.readBackError;
    rep.readBackGivenUpAt ??= part.readBackGivenUpAt;
    rep.error ??= part.error;
    rep.states.push(part.state);
    byRep.set(part.userId, rep);
  }
  const perRep = [...byRep.values()];
  const totals = zero();
  perRep.forEach((rep) => add(totals, rep));
  const capped = parts.reduce((n, p) => n + p.capped, 0);
  return {
    id: String(m._id),
    name: m.name,
    status: m.state,
    sendAt: m.sendAt,
    goesAt: m.goesAt,
    quietHours: m.quietHours,
    content: m.content,
    audience: m.audience,
    skipped: { ...m.skipped, capped: m.skipped.capped + capped },
    totals,
    perRep,
    createdAt: m.createdAt,
    cancelledAt: m.cancelledAt ?? null,
  };
}

function repView(userId: string) {
  return {
    userId,
    msgid: null as string | null,
    /** Several when the rep's list was over WeCom's 10,000 per call. */
    msgids: [] as string[],
    ...zero(),
    capped: 0,
    remindedAt: null as Date | null,
    confirmedAt: null as Date | null,
    readBackError: null as string | null,
    readBackGivenUpAt: null as Date | null,
    error: null as string | null,
    states: [] as string[],
  };
}

function add(into: Counts, from: Counts): void {
  for (const k of COUNTS) into[k] += from[k];
}
