import { DateTime } from 'luxon';
import { z } from 'zod';
import type { ContactModels } from '../contacts/index.ts';
import type { OrderBook } from '../orders/index.ts';

export const IMPORT_KINDS = ['channels', 'contacts', 'orders'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export interface ImportTargets {
  contacts: Pick<ContactModels, 'Contact' | 'FollowRelation' | 'Channel'>;
  orders: OrderBook;
  timeZone: string;
}

/** What applying a batch did to each row: written (new or changed), or refused with a reason. */
export type RowOutcome = 'inserted' | 'updated' | { error: string };

/** A kind of import: its columns, how a row reads, and how a batch of read rows is written. */
export interface ImportKindSpec<Row> {
  columns: readonly string[];
  row: (timeZone: string) => z.ZodType<Row>;
  apply: (rows: Row[], targets: ImportTargets) => Promise<RowOutcome[]>;
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
      })),
  async apply(rows, { contacts: models }) {
    const result = await models.Contact.bulkWrite(
      rows.map((r) => ({
        updateOne: {
          filter: { externalUserId: r.externalUserId },
          update: {
            ...(r.name ? { $set: { name: r.name } } : {}),
            $setOnInsert: { origin: 'import' },
            $min: { enteredAt: r.enteredAt },
          },
          upsert: true,
        },
      })),
      { ordered: true },
    );
    await models.FollowRelation.bulkWrite(
      rows.map((r) => ({
        updateOne: {
          filter: { externalUserId: r.externalUserId, userId: r.followUserId },
          update: {
            $set: {
              state: r.state,
              enteredAt: r.enteredAt,
              addedAt: r.addedAt,
              removedAt: r.removedAt,
              status: r.removedAt ? 'lost' : r.addedAt ? 'active' : 'pending',
            },
          },
          upsert: true,
        },
      })),
      { ordered: true },
    );
    return outcomes(rows.length, result.upsertedIds);
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

export const IMPORT_SPECS = { channels, contacts, orders } satisfies Record<ImportKind, unknown>;

function outcomes(count: number, upsertedIds: Record<number, unknown>): RowOutcome[] {
  return Array.from({ length: count }, (_, i) => (i in upsertedIds ? 'inserted' : 'updated'));
}
