import mongoose from 'mongoose';
import { z } from 'zod';
import type { AppContext } from '../http/index.ts';
import type { ContactModels } from './models.ts';

/**
 * GET /api/admin/contacts: the first slice of the customer list — a text search, keyset paging by
 * externalUserId (so every match comes once, also while contacts are being added), the rep
 * relations of each. The filters the customer list page needs build on this query.
 */
const listQuery = z.object({
  q: z.string().trim().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(400).optional(),
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const encodeCursor = (externalUserId: string) => Buffer.from(JSON.stringify({ after: externalUserId })).toString('base64url');
function decodeCursor(cursor: string, ctx: AppContext): string {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'string') return after;
  } catch {
    // answered below
  }
  return ctx.throw(400, 'cursor: not a cursor this list gave (start again without it)');
}

export function listContacts(models: ContactModels) {
  return async (ctx: AppContext) => {
    const query = listQuery.parse(ctx.query);
    const pattern = query.q ? new RegExp(escapeRegExp(query.q), 'i') : null;
    const remarkMatches = pattern
      ? await models.FollowRelation.distinct('externalUserId', { remark: mongoose.trusted({ $regex: pattern }) })
      : [];
    const match = pattern
      ? { $or: [{ name: pattern }, { corpName: pattern }, { phone: pattern }, { externalUserId: mongoose.trusted({ $in: remarkMatches }) }] }
      : {};
    const after = query.cursor ? decodeCursor(query.cursor, ctx) : null;
    const [total, contacts] = await Promise.all([
      models.Contact.countDocuments(match),
      models.Contact.find({ ...match, ...(after === null ? {} : { externalUserId: mongoose.trusted({ $gt: after }) }) }, {
        _id: 0, externalUserId: 1, name: 1, avatar: 1, corpName: 1, lastActivityAt: 1,
      })
        .sort({ externalUserId: 1 })
        .limit(query.limit + 1)
        .lean(),
    ]);
    const page = contacts.slice(0, query.limit);
    const relations = await models.FollowRelation.find(
      { externalUserId: mongoose.trusted({ $in: page.map((c) => c.externalUserId) }) },
      { _id: 0, externalUserId: 1, userId: 1, status: 1, remark: 1 },
    ).lean();
    ctx.body = {
      total,
      items: page.map((c) => ({
        ...c,
        reps: relations.filter((r) => r.externalUserId === c.externalUserId).map((r) => ({ userId: r.userId, status: r.status, remark: r.remark })),
      })),
      nextCursor: contacts.length > query.limit && page.length > 0 ? encodeCursor(page[page.length - 1]!.externalUserId) : null,
    };
  };
}
