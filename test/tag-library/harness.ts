import mongoose from 'mongoose';
import { ContactPool, contactsAdminModule, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { createTagLibrary, type AudienceTarget, type BulkWorkerTuning, type ResolveAudience, type TagLibraryModule } from '../../server/src/tag-library/index.ts';
import { createWecomClient, tagRows, type WecomClient } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';

export const TOKEN = 'admin-token-for-tag-tests-0123';
const logger = createLogger({ level: 'silent' });

export interface TagHarness {
  store: Awaited<ReturnType<typeof openTestStore>>;
  sim: WecomSimulator;
  models: ContactModels;
  pool: ContactPool;
  client: WecomClient;
  server: ServedModules;
  /** The served module; its bulk workers are not started (tests start instances of their own). */
  served: TagLibraryModule;
  /** Another instance on the same store and simulator, as a second server process would be. */
  instance(worker?: BulkWorkerTuning): Promise<TagLibraryModule>;
  api(path: string, init?: { method?: string; body?: unknown; token?: string }): Promise<Response>;
  /** Mirrors the simulator's corp (tags, customers, relations) into the pool, as a sync does. */
  mirror(): Promise<void>;
  close(): Promise<void>;
}

/** Error with an HTTP status, as the customers module answers an unknown segment. */
class UnknownSegment extends Error {
  readonly status = 404;
}

/**
 * A stand-in for the customers module's audience, over the real pool: segment `all` is every
 * customer with an active relation, `twice` lists each of them twice, a filter `{ reps: [...] }`
 * keeps those reps' customers.
 */
export function poolAudience(models: ContactModels): ResolveAudience {
  return async function* (target: AudienceTarget) {
    if ('segmentId' in target && !['all', 'twice'].includes(target.segmentId)) throw new UnknownSegment(`segmentId: no segment ${target.segmentId}`);
    const reps = 'filter' in target ? (target.filter.reps as string[] | undefined) : undefined;
    const relations = await models.FollowRelation.find({ status: 'active', ...(reps ? { userId: mongoose.trusted({ $in: reps }) } : {}) }).sort({ externalUserId: 1 }).lean();
    const byContact = new Map<string, string[]>();
    for (const r of relations) byContact.set(r.externalUserId, [...(byContact.get(r.externalUserId) ?? []), r.userId]);
    const times = 'segmentId' in target && target.segmentId === 'twice' ? 2 : 1;
    for (let i = 0; i < times; i++) for (const [externalUserId, userIds] of byContact) yield { externalUserId, userIds };
  };
}

export async function startTagHarness(): Promise<TagHarness> {
  const store = await openTestStore();
  const sim = await startWecomSimulator();
  const models = registerContactModels(store.connection);
  await Promise.all(Object.values(models).map((m) => m.init()));
  const pool = new ContactPool(models);
  // Short client backoff: 45009 tests wait for the client's retries, then the queue's.
  const client = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
  const adminGuard = requireAdmin(TOKEN);
  const instance = (worker: BulkWorkerTuning = {}) =>
    createTagLibrary({
      connection: store.connection,
      contacts: models,
      pool,
      client,
      resolveAudience: poolAudience(models),
      adminGuard,
      logger,
      worker: { pollMs: 25, backoffMs: () => 30, ...worker },
    });
  const served = await instance();
  const server = await serveModules([contactsAdminModule({ models, adminGuard }), served.http]);
  return {
    store,
    sim,
    models,
    pool,
    client,
    server,
    served,
    instance,
    api: (path, init = {}) =>
      fetch(`${server.base}${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${init.token ?? TOKEN}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      }),
    async mirror() {
      await pool.replaceWecomTags(tagRows(await client.tags.list()));
      for (const contact of sim.state.contacts.values()) {
        await pool.upsertFromWecom(
          {
            externalUserId: contact.externalUserid,
            name: contact.name,
            type: contact.type,
            follows: contact.follows.map((f) => ({ userId: f.userid, addedAt: new Date(f.createtime * 1000), tagIds: f.tagIds })),
          },
          new Date(),
        );
      }
    },
    async close() {
      await server.close();
      await sim.close();
      await store.dispose();
    },
  };
}
