import type { HydratedDocument } from 'mongoose';
import type { Logger } from '../observability/index.ts';
import { PermanentFailure, QueueWorker } from '../queue/index.ts';
import type { MassSend, MassSendModels, MassSendRep } from './models.ts';
import type { ReadBack } from './readback.ts';
import type { MassSender } from './sender.ts';

export interface RunnerOptions {
  models: MassSendModels;
  sender: MassSender;
  readBack: ReadBack;
  logger: Logger;
  now: () => Date;
  worker?: { concurrency?: number; pollMs?: number; leaseMs?: number };
}

/**
 * Two leased queues in the store, so due sends survive restarts and each item runs on one instance
 * at a time: mass sends that fall due (split per rep), and rep parts (send, then read back).
 */
export class MassSendRunner {
  readonly due: QueueWorker<MassSend>;
  readonly parts: QueueWorker<MassSendRep>;

  constructor(private readonly opts: RunnerOptions) {
    const common = {
      logger: opts.logger,
      now: opts.now,
      concurrency: opts.worker?.concurrency ?? 2,
      pollMs: opts.worker?.pollMs ?? 1_000,
      leaseMs: opts.worker?.leaseMs ?? 120_000,
      maxAttempts: 8,
    };
    this.due = new QueueWorker<MassSend>({ ...common, name: 'mass-sends', model: opts.models.MassSend, handle: (m) => this.split(m) });
    this.parts = new QueueWorker<MassSendRep>({ ...common, name: 'mass-send-parts', model: opts.models.RepPart, handle: (p) => this.work(p) });
  }

  start(): void {
    this.due.start();
    this.parts.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.due.stop(), this.parts.stop()]);
  }

  kick(): void {
    this.due.kick();
    this.parts.kick();
  }

  /** Runs everything due now, splits and parts alike, until nothing is left (tools and tests). */
  async drain(): Promise<number> {
    let total = 0;
    for (let n = 1; n > 0; total += n) n = (await this.due.drain()) + (await this.parts.drain());
    return total;
  }

  private async split(massSend: HydratedDocument<MassSend>): Promise<void> {
    await this.opts.sender.plan(massSend);
    this.parts.kick();
  }

  private async work(part: HydratedDocument<MassSendRep>): Promise<void> {
    const massSend = await this.opts.models.MassSend.findById(part.massSendId).lean();
    if (!massSend) throw new PermanentFailure('the mass send no longer exists');
    if (part.state === 'queued' && massSend.state === 'cancelled') {
      await this.opts.models.RepPart.updateOne({ _id: part._id }, { $set: { state: 'cancelled' } });
      return;
    }
    if (part.state === 'queued' || part.state === 'sending') {
      await this.opts.sender.send(massSend, part);
      await this.opts.sender.settle(massSend._id);
    }
    if (part.state === 'sent') await this.opts.readBack.check(massSend, part);
  }
}
