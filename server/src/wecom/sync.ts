import type { ContactPool } from '../contacts/index.ts';
import type { WecomClient } from './client/index.ts';
import { groupSnapshot, pairSnapshot, tagRows } from './events/mapping.ts';

export type SyncPhase = 'tags' | 'contacts' | 'groups';

export interface SyncProgress {
  phase: SyncPhase;
  done: number;
  /** Known for tags and groups; contacts arrive page by page, so their total is unknown until the end. */
  total: number | null;
}

export interface SyncSummary {
  reps: number;
  tags: number;
  relations: number;
  contacts: number;
  groups: number;
  failedGroups: Array<{ chatId: string; error: string }>;
}

/** batch/get_by_user takes at most 100 reps per call. */
const REPS_PER_BATCH = 100;

/**
 * Pulls corp tags, every rep's customers and every customer group from WeCom and upserts them
 * into the pool. Idempotent: running it twice converges on the same state.
 */
export async function syncFromWecom(
  client: WecomClient,
  pool: ContactPool,
  onProgress: (progress: SyncProgress) => void = () => {},
  now: () => Date = () => new Date(),
): Promise<SyncSummary> {
  const tags = tagRows(await client.tags.list());
  await pool.replaceWecomTags(tags);
  onProgress({ phase: 'tags', done: tags.length, total: tags.length });

  const reps = await client.user.list();
  await pool.recordWecomReps(reps);
  const contacts = new Set<string>();
  let relations = 0;
  for (let i = 0; i < reps.length; i += REPS_PER_BATCH) {
    const userid_list = reps.slice(i, i + REPS_PER_BATCH);
    for await (const pair of client.externalContact.iterateByUser({ userid_list, limit: 100 })) {
      await pool.upsertFromWecom(pairSnapshot(pair), now());
      contacts.add(pair.external_contact.external_userid);
      relations++;
      onProgress({ phase: 'contacts', done: relations, total: null });
    }
  }
  onProgress({ phase: 'contacts', done: relations, total: relations });

  const chatIds: string[] = [];
  for await (const chat of client.groupChat.iterate({ status_filter: 0, limit: 1000 })) chatIds.push(chat.chat_id);
  const failedGroups: SyncSummary['failedGroups'] = [];
  for (const [i, chatId] of chatIds.entries()) {
    try {
      await pool.upsertGroup(groupSnapshot(await client.groupChat.get(chatId, true)), now());
    } catch (err) {
      // One group we may not read (e.g. its owner left) must not stop the rest of the sync.
      failedGroups.push({ chatId, error: err instanceof Error ? err.message : String(err) });
    }
    onProgress({ phase: 'groups', done: i + 1, total: chatIds.length });
  }

  return { reps: reps.length, tags: tags.length, relations, contacts: contacts.size, groups: chatIds.length - failedGroups.length, failedGroups };
}
