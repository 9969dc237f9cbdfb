import mongoose from 'mongoose';
import { REPLY_KINDS, type ContactModels } from '../contacts/index.ts';
import type { Logger } from '../observability/index.ts';
import type { OrderModel } from '../orders/index.ts';
import type { SidebarModels } from '../sidebar-api/index.ts';
import type { Stage, Standing } from '../sop/index.ts';
import type { CustomerModels } from './models.ts';
import { rowOf, type ContactFactsIn } from './row.ts';

export interface IndexerDeps {
  contacts: ContactModels;
  orders: OrderModel;
  stageOverrides: SidebarModels['StageOverride'];
  models: CustomerModels;
  /** The business clock (stages and scores); the delta reads use the real clock, like mongoose's updatedAt stamps. */
  now: () => Date;
  logger: Logger;
}

/** Like analytics/facts.ts: writes stamped just before a read began may land after it, so each delta looks back this far. */
const OVERLAP_MS = 10_000;
/** Matches the embedded store's limit of $in values it looks up through an index. */
const BATCH = 1_000;
const DAY_MS = 86_400_000;
/** Scores count replies of the last 30 days and idle days: refreshed at least this often. */
const SCORE_MAX_AGE_MS = DAY_MS;
const STATE_ID = 'refresh';

type GroupMembers = { chatId: string; members: Array<{ userId: string; type: number }> };

const inList = (values: string[]) => mongoose.trusted({ $in: values });
const since = (date: Date) => ({ updatedAt: mongoose.trusted({ $gte: date }) });

/**
 * Keeps customer_index current without hooks in any write path: each refresh re-reads only the
 * contacts, relations, orders, groups and tags whose `updatedAt` moved since the last one (plus
 * rows whose stage is due to change with time, and stage overrides), and rebuilds whatever they
 * touch. With no refresh state it rebuilds everything. Concurrent callers share one refresh.
 */
export class CustomerIndexer {
  private inFlight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: IndexerDeps) {}

  /** Resolves once every write made before the call is in the index. */
  fresh(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.inFlight) return this.launch();
    // The refresh under way may have read before the caller's writes: one more after it.
    this.queued = this.inFlight.catch(() => undefined).then(() => {
      this.queued = null;
      return this.launch();
    });
    return this.queued;
  }

  /**
   * Refreshes every `everyMs` in the background, and rescores rows older than a day. With several
   * instances only the one `isLeader` says leads does it (lease `customer-index`); reads still
   * refresh on demand anywhere (fresh()).
   */
  start(everyMs = 60_000, isLeader: () => boolean = () => true): void {
    const run = () =>
      (isLeader() ? this.fresh() : Promise.resolve())
        .then(() => (isLeader() ? this.rescoreStale() : 0))
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'customer index refresh failed (the next one retries)'));
    this.timer = setInterval(run, everyMs);
    this.timer.unref();
    void run();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Recomputes rows scored more than a day ago (their score counts days and 30-day replies). */
  async rescoreStale(): Promise<number> {
    const cutoff = new Date(this.deps.now().getTime() - SCORE_MAX_AGE_MS);
    let done = 0;
    for (;;) {
      const stale = await this.deps.models.CustomerIndex.find({ scoredAt: mongoose.trusted({ $lt: cutoff }) }, { _id: 0, externalUserId: 1 }).limit(BATCH).lean();
      if (stale.length === 0) return done;
      await this.recompute(stale.map((r) => r.externalUserId));
      done += stale.length;
    }
  }

  private launch(): Promise<void> {
    this.inFlight = this.refresh().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async refresh(): Promise<void> {
    const { CustomerIndexState } = this.deps.models;
    const started = new Date();
    const state = await CustomerIndexState.findById(STATE_ID).lean();
    if (state) await this.recompute(await this.movedSince(new Date(state.readThrough.getTime() - OVERLAP_MS)));
    else await this.rebuild();
    await CustomerIndexState.updateOne({ _id: STATE_ID }, { $max: { readThrough: started } }, { upsert: true });
  }

  /** Every contact, a batch at a time in id order. */
  private async rebuild(): Promise<void> {
    const started = performance.now();
    let after = '';
    let count = 0;
    for (;;) {
      const batch = await this.deps.contacts.Contact.find({ externalUserId: mongoose.trusted({ $gt: after }) }, { _id: 0, externalUserId: 1 })
        .sort({ externalUserId: 1 })
        .limit(BATCH)
        .lean();
      if (batch.length === 0) break;
      await this.recompute(batch.map((c) => c.externalUserId));
      after = batch.at(-1)!.externalUserId;
      count += batch.length;
    }
    this.deps.logger.info({ contacts: count, ms: Math.round(performance.now() - started) }, 'customer index rebuilt');
  }

  /** The contacts whose row may have changed since `from`. */
  private async movedSince(from: Date): Promise<string[]> {
    const { contacts, orders, models, stageOverrides } = this.deps;
    const { CustomerIndex } = models;
    const [people, relations, bought, groups, tags, due, overrides, overridden] = await Promise.all([
      contacts.Contact.distinct('externalUserId', since(from)),
      contacts.FollowRelation.distinct('externalUserId', since(from)),
      orders.distinct('externalUserId', since(from)),
      contacts.CustomerGroup.find(since(from), { _id: 0, chatId: 1, 'members.userId': 1, 'members.type': 1 }).lean<GroupMembers[]>(),
      contacts.Tag.distinct('tagId', since(from)),
      CustomerIndex.distinct('externalUserId', { stageDueAt: mongoose.trusted({ $lte: this.deps.now() }) }),
      // Overrides have no updatedAt and a cleared one leaves no row: compare the (few) overrides with the index.
      stageOverrides.find({}, { _id: 0, externalUserId: 1, stage: 1 }).lean(),
      CustomerIndex.find({ stageOverride: mongoose.trusted({ $type: 'string' }) }, { _id: 0, externalUserId: 1, stageOverride: 1 }).lean(),
    ]);
    const chatIds = groups.map((g) => g.chatId);
    const [formerMembers, tagged] = await Promise.all([
      chatIds.length ? CustomerIndex.distinct('externalUserId', { groups: inList(chatIds) }) : [],
      tags.length ? CustomerIndex.distinct('externalUserId', { tagIds: inList(tags) }) : [],
    ]);
    const overrideOf = new Map(overrides.map((o) => [o.externalUserId, o.stage]));
    const indexedOverride = new Map(overridden.map((r) => [r.externalUserId, r.stageOverride]));
    const changedOverrides = [
      ...overrides.filter((o) => indexedOverride.get(o.externalUserId) !== o.stage).map((o) => o.externalUserId),
      ...overridden.filter((r) => !overrideOf.has(r.externalUserId)).map((r) => r.externalUserId),
    ];
    const members = groups.flatMap((g) => g.members.filter((m) => m.type === 2).map((m) => m.userId));
    return [...new Set([...people, ...relations, ...bought, ...members, ...formerMembers, ...tagged, ...due, ...changedOverrides])];
  }

  /** Rebuilds the rows of these contacts from the source collections. */
  async recompute(externalUserIds: string[]): Promise<void> {
    for (let i = 0; i < externalUserIds.length; i += BATCH) await this.recomputeBatch(externalUserIds.slice(i, i + BATCH));
  }

  private async recomputeBatch(ids: string[]): Promise<void> {
    const now = this.deps.now();
    const { facts, tagNames } = await this.factsOf(ids, now);
    const rows = facts.map((f) => rowOf(f, tagNames, now));
    const known = new Set(facts.map((f) => f.externalUserId));
    const gone = ids.filter((id) => !known.has(id));
    // The driver, not mongoose: replacing up to a thousand plain rows needs no casting or hydration.
    if (rows.length > 0) {
      await this.deps.models.CustomerIndex.collection.bulkWrite(
        rows.map((row) => ({ replaceOne: { filter: { externalUserId: row.externalUserId }, replacement: row, upsert: true } })),
        { ordered: false },
      );
    }
    if (gone.length > 0) await this.deps.models.CustomerIndex.deleteMany({ externalUserId: inList(gone) });
  }

  /**
   * The stage in force (a rep's override, else the computed one) and the lead score of these
   * contacts now, from the source collections (not the index, which may lag a refresh behind): what
   * SOP audiences and conditions decide by. A contact unknown to the pool is left out.
   */
  async standingOf(externalUserIds: string[], now: Date): Promise<Map<string, Standing>> {
    const out = new Map<string, Standing>();
    for (let i = 0; i < externalUserIds.length; i += BATCH) {
      const { facts, tagNames } = await this.factsOf(externalUserIds.slice(i, i + BATCH), now);
      for (const f of facts) {
        const row = rowOf(f, tagNames, now);
        // The stored override is one of STAGES (the sidebar and console validate it), as the computed stage is.
        out.set(f.externalUserId, { stage: row.stage as Stage, score: row.score });
      }
    }
    return out;
  }

  /** The facts of up to a thousand contacts (those with neither a contact nor a relation are left out), and the tag names. */
  async factsOf(ids: string[], now: Date): Promise<{ facts: ContactFactsIn[]; tagNames: (tagIds: string[]) => string[] }> {
    const { contacts, orders, stageOverrides } = this.deps;
    const monthAgo = new Date(now.getTime() - 30 * DAY_MS);
    const [people, relations, spent, groups, replies, overrides, tags] = await Promise.all([
      contacts.Contact.find({ externalUserId: inList(ids) }, { _id: 0, externalUserId: 1, name: 1, avatar: 1, corpName: 1, corpFullName: 1, phone: 1, lastActivityAt: 1 }).lean(),
      contacts.FollowRelation.find(
        { externalUserId: inList(ids) },
        { _id: 0, externalUserId: 1, userId: 1, status: 1, remark: 1, remarkMobiles: 1, state: 1, tagIds: 1, enteredAt: 1, addedAt: 1 },
      ).lean(),
      orders.aggregate<{ _id: string; n: number; fen: number }>([
        { $match: { externalUserId: { $in: ids } } },
        { $group: { _id: '$externalUserId', n: { $sum: 1 }, fen: { $sum: '$amountFen' } } },
      ]),
      contacts.CustomerGroup.find({ 'members.userId': inList(ids), status: 'active' }, { _id: 0, chatId: 1, 'members.userId': 1, 'members.type': 1 }).lean<GroupMembers[]>(),
      contacts.TimelineEvent.aggregate<{ _id: string; n: number }>([
        { $match: { externalUserId: { $in: ids }, kind: { $in: REPLY_KINDS }, at: { $gte: monthAgo } } },
        { $group: { _id: '$externalUserId', n: { $sum: 1 } } },
      ]),
      stageOverrides.find({ externalUserId: inList(ids) }, { _id: 0, externalUserId: 1, stage: 1 }).lean(),
      contacts.Tag.find({}, { _id: 0, tagId: 1, name: 1 }).lean(),
    ]);
    const tagName = new Map(tags.map((t) => [t.tagId, t.name]));
    const tagNames = (tagIds: string[]) => tagIds.flatMap((id) => (tagName.has(id) ? [tagName.get(id)!] : []));
    const contactOf = new Map(people.map((p) => [p.externalUserId, p]));
    const relationsOf = groupBy(relations, (r) => r.externalUserId);
    const spentOf = new Map(spent.map((s) => [s._id, s]));
    const repliesOf = new Map(replies.map((r) => [r._id, r.n]));
    const overrideOf = new Map(overrides.map((o) => [o.externalUserId, o.stage]));
    const groupsOf = new Map<string, string[]>();
    for (const group of groups) for (const member of group.members) groupsOf.get(member.userId)?.push(group.chatId) ?? groupsOf.set(member.userId, [group.chatId]);

    const facts: ContactFactsIn[] = [];
    for (const id of ids) {
      const contact = contactOf.get(id) ?? null;
      const own = relationsOf.get(id) ?? [];
      if (!contact && own.length === 0) continue;
      facts.push({
        externalUserId: id,
        contact,
        relations: own,
        orders: spentOf.get(id)?.n ?? 0,
        spentFen: spentOf.get(id)?.fen ?? 0,
        groups: [...new Set(groupsOf.get(id) ?? [])],
        recentReplies: repliesOf.get(id) ?? 0,
        override: overrideOf.get(id) ?? null,
      });
    }
    return { facts, tagNames };
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.get(key(item))?.push(item) ?? out.set(key(item), [item]);
  return out;
}
