import mongoose, { Schema, type Connection, type Model } from 'mongoose';

/** One lease: who holds `_id` (a name such as `bot`) and until when. */
export interface LeaseRecord {
  _id: string;
  holder: string;
  expiresAt: Date;
}

export type LeaseModel = Model<LeaseRecord>;

const leaseSchema = new Schema<LeaseRecord>(
  {
    _id: { type: String, required: true },
    holder: { type: String, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'leases', versionKey: false },
);

export function registerLeaseModel(connection: Connection): LeaseModel {
  return (connection.models.Lease as LeaseModel | undefined) ?? connection.model<LeaseRecord>('Lease', leaseSchema);
}

const DUPLICATE_KEY = 11000;

/**
 * The atomic operations on the `leases` collection. Times come from the caller's clock, so every
 * instance must keep its clock well within a lease's length of the others' (NTP does).
 */
export class LeaseBook {
  constructor(private readonly model: LeaseModel) {}

  /**
   * Takes or extends `name` for `holder` until `now + leaseMs`, if it is free, expired, or already
   * theirs: one findOneAndUpdate, so two instances can never both succeed. A lease held by someone
   * else matches nothing, the upsert then collides on `_id`, and that means "not yours".
   */
  async take(name: string, holder: string, now: Date, leaseMs: number): Promise<boolean> {
    try {
      const taken = await this.model
        .findOneAndUpdate(
          { _id: name, $or: [{ holder }, { expiresAt: mongoose.trusted({ $lte: now }) }] },
          { $set: { holder, expiresAt: new Date(now.getTime() + leaseMs) } },
          { upsert: true, returnDocument: 'after' },
        )
        .lean();
      return taken?.holder === holder;
    } catch (err) {
      if ((err as { code?: number }).code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  /** Gives `name` up at once (only if `holder` still has it), so another instance need not wait for expiry. */
  async release(name: string, holder: string): Promise<void> {
    await this.model.deleteOne({ _id: name, holder });
  }

  /** Who holds `name` right now; null when nobody does (never taken, released or expired). */
  async holderOf(name: string, now: Date): Promise<{ holder: string; expiresAt: Date } | null> {
    const lease = await this.model.findById(name).lean();
    return lease && lease.expiresAt > now ? { holder: lease.holder, expiresAt: lease.expiresAt } : null;
  }
}
