import { Counter } from 'prom-client';
import type { Connection } from 'mongoose';
import type { ContactPool } from '../contacts/index.ts';
import type { HttpModule } from '../http/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { QueueWorker } from '../queue/index.ts';
import type { CallbackSecrets } from './callback/crypto.ts';
import { wecomCallbackModule } from './callback/routes.ts';
import type { WecomClient } from './client/index.ts';
import { applyEvent, type ContactAdded, type ContactTagged, type EventDeps } from './events/handlers.ts';
import { registerInbox, type InboxItem, type InboxModel } from './inbox.ts';

export interface WecomIntegrationDeps {
  connection: Connection;
  secrets: CallbackSecrets;
  client: WecomClient;
  pool: ContactPool;
  logger: Logger;
  metrics: Metrics;
  onContactAdded?: (event: ContactAdded) => Promise<void>;
  onContactTagged?: (event: ContactTagged) => Promise<void>;
  onContactLost?: EventDeps['onContactLost'];
  /** The welcome lane (the SOP engine's welcomeNow); without it the welcome waits for onContactAdded. */
  welcomeNow?: EventDeps['welcomeNow'];
  /** How much of the 20 s window to keep for the name-free fallback welcome; default 5 s. */
  welcomeFallbackMarginMs?: number;
  /** A new event is in the inbox (this instance's worker is woken anyway): e.g. to wake its work threads. */
  onStored?: () => void;
}

export interface WecomIntegration {
  http: HttpModule;
  inbox: InboxModel;
  worker: QueueWorker<InboxItem>;
}

/** Callback endpoint → durable inbox → event processing into the contact pool. */
export function createWecomIntegration(deps: WecomIntegrationDeps): WecomIntegration {
  const logger = deps.logger.child({ module: 'wecom' });
  const inbox = registerInbox(deps.connection);
  const processed = new Counter({
    name: 'wecom_events_processed_total',
    help: 'WeCom callback events processed from the inbox, by event and outcome',
    labelNames: ['event', 'outcome'],
    registers: [deps.metrics.registry],
  });
  const worker = new QueueWorker<InboxItem>({
    name: 'wecom-inbox',
    model: inbox,
    logger,
    leaseMs: 60_000,
    maxAttempts: 6,
    urgentBy: 'welcomeBy',
    handle: (item) =>
      applyEvent(item, {
        client: deps.client,
        pool: deps.pool,
        logger,
        onContactAdded: deps.onContactAdded,
        onContactTagged: deps.onContactTagged,
        onContactLost: deps.onContactLost,
        welcomeNow: deps.welcomeNow,
        welcomeFallbackMarginMs: deps.welcomeFallbackMarginMs,
      }),
    onOutcome: (outcome, item) => processed.inc({ event: `${item.event}/${item.changeType}`, outcome }),
  });
  return {
    http: wecomCallbackModule({ secrets: deps.secrets, inbox, metrics: deps.metrics, onStored: () => (worker.kick(), deps.onStored?.()) }),
    inbox,
    worker,
  };
}
