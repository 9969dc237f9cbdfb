import mongoose, { type Model } from 'mongoose';
import { botRoomOf, type ContactModels } from '../contacts/index.ts';
import { capSlotsUsed, optedOutAmong, type Guardrails, type SendRecord } from '../sop/index.ts';
import type { SkippedCounts } from './models.ts';
import type { CustomerAudience, MassSendAudience } from './schema.ts';

/** The customers module's audience (injected by main.ts): each matching customer once, with the reps of their active relations. */
export type ResolveAudience = (target: CustomerAudience) => AsyncIterable<{ externalUserId: string; userIds: string[] }>;

export interface AudienceDeps {
  contacts: ContactModels;
  sends: Model<SendRecord>;
  guardrails: Guardrails;
  resolveAudience: ResolveAudience;
}

export interface AudienceSplit {
  chatType: 'single' | 'group';
  /** Rep → the customers (or groups) that rep will be asked to send to. */
  perRep: Map<string, string[]>;
  skipped: SkippedCounts;
}

const BATCH = 1_000;

/**
 * Splits an audience per sending rep, leaving out who must not get it. A customer gets the message
 * once, through the first rep the customers module lists. `capDay` (a preview) also counts who has
 * used up the day's cap already; a real send claims the cap when each rep's part goes instead.
 */
export async function splitAudience(deps: AudienceDeps, audience: MassSendAudience, capDay: string | null): Promise<AudienceSplit> {
  if ('groups' in audience) return splitGroups(deps.contacts, audience.groups);
  const perRep = new Map<string, string[]>();
  const skipped: SkippedCounts = { optedOut: 0, capped: 0, noRelation: 0 };
  const seen = new Set<string>();
  let batch: Array<{ externalUserId: string; userId: string }> = [];

  const flush = async () => {
    const ids = batch.map((c) => c.externalUserId);
    const [optedOut, used] = await Promise.all([
      optedOutAmong(deps.contacts, deps.guardrails.optOutTag, ids),
      capDay ? capSlotsUsed(deps.sends, ids, capDay) : Promise.resolve(new Map<string, number>()),
    ]);
    for (const { externalUserId, userId } of batch) {
      if (optedOut.has(externalUserId)) skipped.optedOut++;
      else if ((used.get(externalUserId) ?? 0) >= deps.guardrails.frequencyCapPerDay) skipped.capped++;
      else pushTo(perRep, userId, externalUserId);
    }
    batch = [];
  };

  for await (const customer of deps.resolveAudience(audience)) {
    if (seen.has(customer.externalUserId)) continue;
    seen.add(customer.externalUserId);
    const userId = customer.userIds[0];
    if (!userId) {
      skipped.noRelation++;
      continue;
    }
    batch.push({ externalUserId: customer.externalUserId, userId });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return { chatType: 'single', perRep, skipped };
}

/** Groups go out from their owner; a dismissed or unknown group, or a room only the bot knows (no WeCom chat id), cannot. */
async function splitGroups(contacts: ContactModels, chatIds: string[]): Promise<AudienceSplit> {
  const groups = await contacts.CustomerGroup.find({ chatId: mongoose.trusted({ $in: chatIds }), status: 'active' }, { chatId: 1, owner: 1 }).lean();
  const perRep = new Map<string, string[]>();
  for (const group of groups) {
    if (!group.owner || botRoomOf(group.chatId) !== null) continue;
    pushTo(perRep, group.owner, group.chatId);
  }
  const reachable = [...perRep.values()].reduce((n, ids) => n + ids.length, 0);
  return { chatType: 'group', perRep, skipped: { optedOut: 0, capped: 0, noRelation: chatIds.length - reachable } };
}

function pushTo(perRep: Map<string, string[]>, userId: string, target: string): void {
  const list = perRep.get(userId);
  if (list) list.push(target);
  else perRep.set(userId, [target]);
}
