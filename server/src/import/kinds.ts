import { DateTime } from 'luxon';
import mongoose from 'mongoose';
import { z } from 'zod';
import { addPlaceholderReps, knownReps, type ContactModels } from '../contacts/index.ts';
import { normalisePhone, normalisePhones, type Identity, type LeadInput, type LeadOutcome } from '../identity/index.ts';
import type { OrderBook } from '../orders/index.ts';
import { planContactRow, type ContactConflict } from './ownership.ts';

export const IMPORT_KINDS = ['channels', 'contacts', 'orders', 'leads'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export interface ImportTargets {
  contacts: Pick<ContactModels, 'Contact' | 'FollowRelation' | 'Channel' | 'Rep'>;
  orders: OrderBook;
  /** ONE_ID: what leads need, and what lets a contacts import merge a contact-to-be it turns out to be. */
  identity?: Identity;
  timeZone: string;
}

/** What the operator chose for one import. */
export interface ImportOptions {
  /** Accept a follow_userid WeCom has not told us of, recording it as a placeholder rep (else the row is refused). */
  createPlaceholderReps: boolean;
}

/**
 * What applying a batch did to each row: written (new or changed), written with values kept
 * against the file (`conflicts`) or naming a placeholder rep it created, a lead's match, or refused with a reason.
 */
export type RowOutcome =
  | 'inserted'
  | 'updated'
  | { written: 'inserted' | 'updated'; conflicts: ContactConflict[]; placeholderRep?: string }
  | { lead: LeadOutcome }
  | { error: string; code?: string };

/** A kind of import: its columns, how a row reads, and how a batch of read rows is written. */
export interface ImportKindSpec<Row> {
  columns: readonly string[];
  /** Columns a file may add to `columns` (blank when absent). */
  optionalColumns?: readonly string[];
  row: (timeZone: string) => z.ZodType<Row>;
  apply: (rows: Row[], targets: ImportTargets, options: ImportOptions) => Promise<RowOutcome[]>;
}

const text = (max: number) => z.string().max(max, `at most ${max} characters`);
const required = (max: number) => text(max).min(1, 'required');
const blankAsNull = <T extends z.ZodType>(inner: T) => z.preprocess((v) => (v === '' ? null : v), inner.nullable());

/** Yuan with at most two decimals, as integer fen (so 0.1 + 0.2 never happens). */
const yuan = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,2})?$/, 'must be an amount in yuan such as 199 or 199.90 (at most two decimals)')
  .transform((v) => {
    const [whole, fraction = ''] = v.split('.');
    return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  });

/** `YYYY-MM-DD HH:mm:ss` on the business clock (the configured time zone), stored as UTC. */
const localTime = (zone: string) =>
  z.string().transform((v, ctx) => {
    const at = DateTime.fromFormat(v, 'yyyy-MM-dd HH:mm:ss', { zone });
    if (!at.isValid) {
      ctx.addIssue({ code: 'custom', message: `must be a time YYYY-MM-DD HH:mm:ss (${zone}), got "${v}"` });
      return z.NEVER;
    }
    return at.toJSDate();
  });

const channels: ImportKindSpec<{ state: string; name: string; costFen: number }> = {
  columns: ['state', 'name', 'cost'],
  row: () =>
    z.object({
      state: required(30),
      name: required(100),
      cost: z.preprocess((v) => (v === '' ? '0' : v), yuan),
    }).transform(({ state, name, cost }) => ({ state, name, costFen: cost })),
  async apply(rows, { contacts }) {
    const result = await contacts.Channel.bulkWrite(
      rows.map((r) => ({
        // Channel cost is kept in yuan (as operators enter it on the Channels page); fen only for exact parsing.
        updateOne: { filter: { state: r.state }, update: { $set: { name: r.name, cost: r.costFen / 100 } }, upsert: true },
      })),
      { ordered: true },
    );
    return outcomes(rows.length, result.upsertedIds);
  },
};

interface ContactRow {
  externalUserId: string;
  name: string;
  phones: string[];
  unionId: string | null;
  company: string | null;
  title: string | null;
  followUserId: string;
  state: string | null;
  enteredAt: Date;
  addedAt: Date | null;
  removedAt: Date | null;
}

/**
 * A contact row becomes the contact plus its relation with `follow_userid`, carrying the three
 * analytics times exactly as WeCom callbacks record them (see analytics/facts.ts): entered_at →
 * `enteredAt`, added_at → `addedAt`, removed_at → `removedAt` with status `lost` (the customer
 * deleted the rep), and the channel `state`.
 */
const contacts: ImportKindSpec<ContactRow> = {
  columns: ['external_userid', 'name', 'follow_userid', 'state', 'entered_at', 'added_at', 'removed_at'],
  optionalColumns: ['phone', 'unionid', 'company', 'title'],
  row: (zone) =>
    z
      .object({
        external_userid: required(128),
        name: text(100),
        follow_userid: required(64),
        state: blankAsNull(text(30)),
        entered_at: localTime(zone),
        added_at: blankAsNull(localTime(zone)),
        removed_at: blankAsNull(localTime(zone)),
        phone: phoneList,
        unionid: blankAsNull(text(128)),
        company: blankAsNull(text(200)),
        title: blankAsNull(text(100)),
      })
      .superRefine((r, ctx) => {
        if (r.added_at && r.added_at < r.entered_at) ctx.addIssue({ code: 'custom', path: ['added_at'], message: 'is before entered_at' });
        if (r.removed_at && !r.added_at) ctx.addIssue({ code: 'custom', path: ['removed_at'], message: 'needs added_at (only a friend can delete the rep)' });
        if (r.removed_at && r.added_at && r.removed_at < r.added_at) ctx.addIssue({ code: 'custom', path: ['removed_at'], message: 'is before added_at' });
      })
      .transform((r) => ({
        externalUserId: r.external_userid,
        name: r.name,
        followUserId: r.follow_userid,
        state: r.state,
        enteredAt: r.entered_at,
        addedAt: r.added_at,
        removedAt: r.removed_at,
        phones: r.phone,
        unionId: r.unionid,
        company: r.company,
        title: r.title,
      })),
  async apply(rows, { contacts: models, identity }, options) {
    const known = await knownReps(models, rows.map((r) => r.followUserId));
    const unknown = [...new Set(rows.map((r) => r.followUserId).filter((id) => !known.has(id)))];
    if (options.createPlaceholderReps) await addPlaceholderReps(models, unknown);
    const placeholders = new Set(options.createPlaceholderReps ? unknown : []);
    const accepted = rows.filter((r) => known.has(r.followUserId) || placeholders.has(r.followUserId));
    const written = await writeContactRows(accepted, models);
    if (identity) await mergeContactsToBe(written.rows, identity);
    let next = 0;
    return rows.map((r): RowOutcome => {
      if (!known.has(r.followUserId) && !placeholders.has(r.followUserId)) {
        return { error: `跟进人 ${r.followUserId} 不是企业微信通讯录里的成员（先同步企业微信，或勾选“为未知跟进人创建占位成员”）`, code: 'unknown_rep' };
      }
      const outcome = written.outcomes[next++]!;
      return placeholders.has(r.followUserId) ? { ...outcome, placeholderRep: r.followUserId } : outcome;
    });
  },
};

/**
 * Writes contact rows beside what the pool holds (import/ownership.ts decides what each may write):
 * the contact, its relation with the rep, and the identity values it owns, each with `import` as
 * their source (recorded with the row's entered_at, so a re-import adds no second provenance entry).
 */
async function writeContactRows(rows: ContactRow[], models: ImportTargets['contacts']): Promise<{ outcomes: Array<{ written: 'inserted' | 'updated'; conflicts: ContactConflict[] }>; rows: ContactRow[] }> {
  if (rows.length === 0) return { outcomes: [], rows };
  const ids = [...new Set(rows.map((r) => r.externalUserId))];
  const among = mongoose.trusted({ $in: ids });
  const [contacts, relations] = await Promise.all([
    models.Contact.find({ externalUserId: among }, { externalUserId: 1, name: 1, origin: 1, syncedAt: 1, unionId: 1, company: 1, title: 1, identitySources: 1 }).lean(),
    models.FollowRelation.find({ externalUserId: among }, { externalUserId: 1, userId: 1, origin: 1, status: 1, state: 1, enteredAt: 1, addedAt: 1, removedAt: 1 }).lean(),
  ]);
  const contactOf = new Map(contacts.map((c) => [c.externalUserId, c]));
  const relationOf = new Map(relations.map((r) => [`${r.externalUserId}\u0000${r.userId}`, r]));
  const plans = rows.map((r) => planContactRow(r, contactOf.get(r.externalUserId), relationOf.get(`${r.externalUserId}\u0000${r.followUserId}`)));
  const result = await models.Contact.bulkWrite(
    rows.map((r, i) => {
      const plan = plans[i]!;
      const at = r.enteredAt;
      const sources = [...r.phones.map((p): [string, string] => ['phone', p]), ...plan.identity];
      return {
        updateOne: {
          filter: { externalUserId: r.externalUserId },
          update: {
            ...(Object.keys(plan.set).length > 0 ? { $set: plan.set } : {}),
            $setOnInsert: { origin: 'import' },
            // Only a relation this row writes moves when the contact first entered.
            ...(plan.relation && 'status' in plan.relation.set ? { $min: { enteredAt: r.enteredAt } } : {}),
            ...(sources.length > 0
              ? { $addToSet: { phones: { $each: r.phones }, identitySources: { $each: sources.map(([field, value]) => ({ field, value, source: 'import', at })) } } }
              : {}),
          },
          upsert: true,
        },
      };
    }),
    { ordered: true },
  );
  const relationWrites = rows.flatMap((r, i) => {
    const relation = plans[i]!.relation;
    if (!relation) return [];
    return [{
      updateOne: {
        filter: { externalUserId: r.externalUserId, userId: r.followUserId },
        update: { $set: relation.set, $setOnInsert: { origin: 'import' } },
        upsert: true,
      },
    }];
  });
  if (relationWrites.length > 0) await models.FollowRelation.bulkWrite(relationWrites, { ordered: true });
  // `phone` stays the first known phone: set only where there was none.
  const firstPhones = rows.filter((r) => r.phones.length > 0);
  if (firstPhones.length > 0) {
    await models.Contact.bulkWrite(
      firstPhones.map((r) => ({ updateOne: { filter: { externalUserId: r.externalUserId, phone: null }, update: { $set: { phone: r.phones[0]! } } } })),
      { ordered: false },
    );
  }
  return {
    outcomes: rows.map((r, i) => ({ written: i in result.upsertedIds ? 'inserted' : 'updated', conflicts: plans[i]!.conflicts.map((c) => ({ externalUserId: r.externalUserId, ...c })) })),
    // The matcher reads the unionid the contact kept, not one the file offered against it.
    rows: rows.map((r, i) => (plans[i]!.conflicts.some((c) => c.field === 'unionId') ? { ...r, unionId: null } : r)),
  };
}

/** Several phones in one cell may be separated by `;`, `/` or `、`; each must read as a phone. */
const phoneList = z.string().max(200, 'at most 200 characters').transform((v, ctx) => {
  const raws = v.split(/[;/、，,]/).map((p) => p.trim()).filter(Boolean);
  const bad = raws.filter((p) => normalisePhone(p) === null);
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `not a phone number: ${bad.join(', ')}` });
    return z.NEVER;
  }
  return normalisePhones(raws);
});

/**
 * A contact imported with a phone or unionid that a lead's contact-to-be already has is that
 * person: the contact-to-be is merged into it (automatically: the matcher said 'same').
 */
async function mergeContactsToBe(rows: ContactRow[], identity: Identity): Promise<void> {
  for (const r of rows) {
    if (r.phones.length === 0 && !r.unionId) continue;
    const match = await identity.match({ unionId: r.unionId, phones: r.phones }, r.externalUserId);
    if (match.verdict === 'same' && match.contact.origin === 'lead') {
      await identity.merge({ survivorId: r.externalUserId, mergedId: match.contact.externalUserId, reason: match.reason, auto: true });
    }
  }
}

/**
 * A lead (a form submission): matched against the pool by phone, else by name and company, once
 * per lead_id (see identity/leads.ts for what each verdict does).
 */
const leads: ImportKindSpec<LeadInput> = {
  columns: ['lead_id', 'name', 'phone', 'company', 'title', 'email', 'source', 'submitted_at'],
  row: (zone) =>
    z
      .object({
        lead_id: required(64),
        name: text(100),
        phone: blankAsNull(text(32).refine((v) => normalisePhone(v) !== null, 'not a phone number')),
        company: text(200),
        title: text(100),
        email: z.union([z.literal(''), z.email('must be an email address').max(200)]),
        source: text(64),
        submitted_at: localTime(zone),
      })
      .superRefine((r, ctx) => {
        if (!r.phone && !r.name) ctx.addIssue({ code: 'custom', path: ['phone'], message: 'a lead needs a phone or a name' });
      })
      .transform((r) => ({ leadId: r.lead_id, name: r.name, phone: r.phone, company: r.company, title: r.title, email: r.email, source: r.source, submittedAt: r.submitted_at })),
  async apply(rows, { identity }) {
    if (!identity) throw new Error('lead import needs the identity module (ImportTargets.identity)');
    const results: RowOutcome[] = [];
    // One by one: a lead may match the contact-to-be an earlier row of the same file created.
    for (const row of rows) results.push({ lead: await identity.importLead(row) });
    return results;
  },
};

const orders: ImportKindSpec<{ orderId: string; externalUserId: string; amountFen: number; paidAt: Date }> = {
  columns: ['order_id', 'external_userid', 'amount', 'paid_at'],
  row: (zone) =>
    z
      .object({ order_id: required(64), external_userid: required(128), amount: yuan, paid_at: localTime(zone) })
      .transform((r) => ({ orderId: r.order_id, externalUserId: r.external_userid, amountFen: r.amount, paidAt: r.paid_at })),
  async apply(rows, targets) {
    const recorded = await targets.orders.recordMany(rows);
    return recorded.map((o) => (o === 'unknown_contact' ? { error: 'external_userid: no such contact (import contacts first)' } : o));
  },
};

export const IMPORT_SPECS = { channels, contacts, orders, leads } satisfies Record<ImportKind, unknown>;

function outcomes(count: number, upsertedIds: Record<number, unknown>): RowOutcome[] {
  return Array.from({ length: count }, (_, i) => (i in upsertedIds ? 'inserted' : 'updated'));
}
