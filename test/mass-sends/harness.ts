import mongoose, { type Connection } from 'mongoose';
import { requireAdmin } from '../../server/src/http/index.ts';
import { createMassSends, type MassSends, type ResolveAudience } from '../../server/src/mass-sends/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import type { ContactModels } from '../../server/src/contacts/index.ts';
import type { WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { serveModules, type ServedModules } from '../support/http.ts';
import { SOP_ADMIN_TOKEN, type SopHarness, type TestClock } from '../sop/harness.ts';

/**
 * A stand-in for the customers module's audience: `{ filter: { ids } }` or a segment id mapped in
 * `segments`, yielding each customer with the reps of their active relations (earliest first).
 */
export function standInAudience(contacts: ContactModels, segments: Map<string, string[]>): ResolveAudience {
  return async function* (target) {
    const ids = 'segmentId' in target ? (segments.get(target.segmentId) ?? []) : ((target.filter.ids as string[] | undefined) ?? []);
    for (const externalUserId of ids) {
      const relations = await contacts.FollowRelation.find({ externalUserId, status: 'active' }).sort({ addedAt: 1 }).lean();
      yield { externalUserId, userIds: relations.map((r) => r.userId) };
    }
  };
}

export interface MassSendFixture {
  massSends: MassSends;
  served: ServedModules;
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/** The mass-send module on a connection, with the SOP harness's ledger, tasks and WeCom client, served over HTTP. */
export async function buildMassSends(
  connection: Connection,
  h: Pick<SopHarness, 'contacts' | 'tasks' | 'client'> & { sends: SopHarness['sop']['models']['Send'] },
  clock: TestClock,
  segments: Map<string, string[]>,
  options: { remindAfterMs?: number } = {},
): Promise<MassSendFixture> {
  const massSends = await createMassSends({
    connection,
    contacts: h.contacts,
    sends: h.sends,
    tasks: h.tasks,
    client: h.client,
    resolveAudience: standInAudience(h.contacts, segments),
    adminGuard: requireAdmin(SOP_ADMIN_TOKEN),
    logger: createLogger({ level: 'silent' }),
    timeZone: 'Asia/Shanghai',
    guardrails: { frequencyCapPerDay: 1, optOutTag: '拒收营销' },
    now: clock.now,
    worker: { pollMs: 20, concurrency: 2 },
    ...(options.remindAfterMs ? { remindAfterMs: options.remindAfterMs } : {}),
  });
  const served = await serveModules([massSends.http]);
  return {
    massSends,
    served,
    async call<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${served.base}/api/admin/mass-sends${path}`, {
        method,
        headers: { authorization: `Bearer ${SOP_ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as T };
    },
  };
}

/** Customers of the simulator, added before the pool syncs: `count` per rep, ids `ms-<rep>-<n>`. */
export function addCustomers(sim: WecomSimulator, perRep: Record<string, number>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(perRep).map(([userid, n]) => [
      userid,
      Array.from({ length: n }, (_, i) => sim.state.addContact({ name: `群发客户${userid}${i}`, externalUserid: `ms-${userid}-${i}` }, [{ userid }]).externalUserid),
    ]),
  );
}

export const objectIdOf = (id: string) => new mongoose.Types.ObjectId(id);
