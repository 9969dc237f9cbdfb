import mongoose from 'mongoose';
import type { ContactModels } from '../contacts/index.ts';
import { andOf, pageRows, tagNamer, itemOf, type Sort } from './list.ts';
import { compileFilter, customerFilterSchema, type ChurnSource, type CustomerFilter } from './filter.ts';
import type { CustomerModels, CustomerRow } from './models.ts';
import type { CustomerIndexer } from './refresh.ts';

/** A filter, or a saved segment by id (its filter as it is now). */
export type FilterOrSegment = CustomerFilter | { segmentId: string };

export class UnknownSegment extends Error {}

const AUDIENCE_BATCH = 1_000;

/**
 * Who matches a customer filter, answered from the customer index after a delta refresh, so every
 * answer reflects the writes made before it was asked.
 */
export class Customers {
  constructor(private readonly deps: { models: CustomerModels; contacts: ContactModels; indexer: CustomerIndexer; timeZone: string; churn?: ChurnSource | undefined }) {}

  async filterOf(source: FilterOrSegment): Promise<CustomerFilter> {
    if (!('segmentId' in source)) return source;
    const id = source.segmentId;
    const segment = mongoose.isValidObjectId(id) ? await this.deps.models.Segment.findById(id, { filter: 1 }).lean() : null;
    if (!segment) throw new UnknownSegment(`no segment ${id}`);
    // Stored filters were validated on save; parsing again keeps the type honest.
    return customerFilterSchema.parse(segment.filter);
  }

  /** The query clauses for a filter or segment, after the index caught up. */
  async clauses(source: FilterOrSegment): Promise<Array<Record<string, unknown>>> {
    const [filter] = await Promise.all([this.filterOf(source), this.deps.indexer.fresh()]);
    return compileFilter(filter, this.deps);
  }

  async count(source: FilterOrSegment): Promise<number> {
    return this.deps.models.CustomerIndex.countDocuments(andOf(await this.clauses(source)));
  }

  async has(source: FilterOrSegment, externalUserId: string): Promise<boolean> {
    const clauses = await this.clauses(source);
    return (await this.deps.models.CustomerIndex.exists(andOf([...clauses, { externalUserId }]))) !== null;
  }

  /** Every match once, in id order, a thousand at a time; userIds are the reps with an active relation. */
  async *audience(source: FilterOrSegment): AsyncIterable<{ externalUserId: string; userIds: string[] }> {
    const clauses = await this.clauses(source);
    let after = '';
    for (;;) {
      const rows = await this.deps.models.CustomerIndex.find(andOf([...clauses, { externalUserId: mongoose.trusted({ $gt: after }) }]), { _id: 0, externalUserId: 1, reps: 1 })
        .sort({ externalUserId: 1 })
        .limit(AUDIENCE_BATCH)
        .lean();
      for (const row of rows) yield { externalUserId: row.externalUserId, userIds: row.reps };
      if (rows.length < AUDIENCE_BATCH) return;
      after = rows.at(-1)!.externalUserId;
    }
  }

  /** One page of list items and the total. */
  async page(source: FilterOrSegment, sort: Sort, position: Parameters<typeof pageRows>[3], limit: number) {
    const clauses = await this.clauses(source);
    const [total, { page, nextCursor }] = await Promise.all([
      this.deps.models.CustomerIndex.countDocuments(andOf(clauses)),
      pageRows(this.deps.models, clauses, sort, position, limit),
    ]);
    return { total, items: await this.items(page), nextCursor };
  }

  async items(rows: CustomerRow[]) {
    const [tags, risks] = await Promise.all([
      tagNamer(this.deps.contacts, rows),
      this.deps.churn && rows.length ? this.deps.churn.scoresOf(rows.map((r) => r.externalUserId)) : Promise.resolve(new Map<string, never>()),
    ]);
    // null: not scored yet (or no churn module), which the list shows as a dash rather than 0.
    return rows.map((row) => {
      const risk = risks.get(row.externalUserId);
      return { ...itemOf(row, tags), risk: risk ? { score: risk.score, reasons: risk.reasons.map((r) => ({ code: r.code, label: r.label, points: r.points })) } : null };
    });
  }
}
