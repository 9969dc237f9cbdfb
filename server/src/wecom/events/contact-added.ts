import { DeferWork } from '../../queue/index.ts';
import type { WelcomeStage } from '../inbox.ts';
import type { ContactAdded, EventDeps } from './handlers.ts';
import { contactSnapshot } from './mapping.ts';

/** Of the 20 s window, what is kept for the name-free welcome when externalcontact/get is late. */
const DEFAULT_WELCOME_FALLBACK_MARGIN_MS = 5_000;

/**
 * add_external_contact, in two stages while its welcome code is valid. First the welcome: the
 * contact's name (externalcontact/get) and what the plan choice reads (the relation and its channel
 * tags, in the store), then the welcome itself; the event then goes back to the inbox as ordinary
 * work (DeferWork with the stage done), so the worker takes the next welcome rather than this
 * event's mark_tag, timeline and other enrolments, which follow. If the name is not in when only the
 * fallback margin of the window is left (get rate-limited, WeCom slow, or get failed), the welcome
 * goes without it (the step's fallbackText) and the second stage fetches the contact again.
 */
export async function contactAdded(event: ContactAdded & { key: string }, done: WelcomeStage | null, deps: EventDeps): Promise<void> {
  const { key, ...added } = event;
  const remaining = added.welcomeDeadline ? added.welcomeDeadline.getTime() - Date.now() : 0;
  const channelTags = added.state ? await deps.pool.tagIdsForState(added.state) : [];
  const { welcomeNow } = deps;
  if (!done && welcomeNow && added.welcomeCode && remaining > 0) {
    const stage = await welcomeFirst(added, remaining, channelTags, welcomeNow, deps);
    throw new DeferWork(new Date(), 'welcome sent; the rest of the event follows', { welcomed: stage });
  }
  await theRest(added, key, channelTags, done ?? { upserted: false, taken: false }, deps);
}

async function welcomeFirst(
  added: ContactAdded,
  remaining: number,
  channelTags: string[],
  welcomeNow: NonNullable<EventDeps['welcomeNow']>,
  deps: EventDeps,
): Promise<WelcomeStage> {
  const { externalUserId, userId, state, at } = added;
  const margin = deps.welcomeFallbackMarginMs ?? DEFAULT_WELCOME_FALLBACK_MARGIN_MS;
  const budget = remaining - margin;
  // Inside the margin already (a backlog): no time to wait for the name, so do not ask for it here.
  const snapshot = budget > 0 ? await settledWithin(deps.client.externalContact.get(externalUserId).then(contactSnapshot), budget) : null;
  if (snapshot) await deps.pool.upsertFromWecom(snapshot, at);
  // No name yet: the relation with its channel state is what the plan choice needs, and with no
  // contact name in the store the welcome step renders its name-free text.
  else await deps.pool.recordPendingFollow({ externalUserId, userId, state, at });
  await storeChannelTags(added, channelTags, deps);
  return { upserted: snapshot !== null, taken: await welcomeNow(added) };
}

async function theRest(added: ContactAdded, key: string, channelTags: string[], done: WelcomeStage, deps: EventDeps): Promise<void> {
  const { pool } = deps;
  const { externalUserId, userId, state, at } = added;
  if (!done.upserted) await pool.upsertFromWecom(contactSnapshot(await deps.client.externalContact.get(externalUserId)), at);
  await pool.addTimeline({ externalUserId, userId, at, kind: 'added', key: `${key}:added`, data: { state } });
  if (state && channelTags.length > 0) {
    await deps.client.tags.mark({ userid: userId, external_userid: externalUserId, add_tag: channelTags });
    // Again after the welcome stage: the upsert above sets the relation's tags to WeCom's, which lacked these.
    await storeChannelTags(added, channelTags, deps);
    await pool.addTimeline({
      externalUserId,
      userId,
      at,
      kind: 'tags_changed',
      key: `${key}:channel-tags`,
      data: { added: channelTags, removed: [], reason: 'channel', state },
    });
    await deps.onContactTagged?.({ externalUserId, userId, tagIds: channelTags, at });
  }
  await deps.onContactAdded?.({ ...added, welcomeTaken: done.taken });
}

/** A contact that came through a 联系我 channel gets the channel's tags here first; WeCom's mark_tag follows. */
async function storeChannelTags(added: ContactAdded, tagIds: string[], deps: EventDeps): Promise<void> {
  if (tagIds.length > 0) await deps.pool.addTags({ externalUserId: added.externalUserId, userId: added.userId, tagIds });
}

/** The promise's value if it settles within `ms`, else null (also when it fails: the name is then not to be had). */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(null);
      },
    );
  });
}
