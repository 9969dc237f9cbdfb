import type { ContactSnapshot } from '../../contacts/index.ts';
import { DeferWork } from '../../queue/index.ts';
import type { WelcomeStage } from '../inbox.ts';
import type { ContactAdded, EventDeps } from './handlers.ts';
import { contactSnapshot } from './mapping.ts';

/** Of the 20 s window, what is kept for the name-free welcome when externalcontact/get is late. */
const DEFAULT_WELCOME_FALLBACK_MARGIN_MS = 5_000;

/**
 * add_external_contact, in two stages while its welcome code is valid. First the welcome alone: the
 * contact's name (externalcontact/get), the plan choice from what WeCom and the channel say of the
 * relation, and the welcome itself, with nothing written to the pool yet; the event then goes back
 * to the inbox as ordinary work (DeferWork with WeCom's answer kept), so during a spike the worker
 * takes the next welcome rather than this event's pool upsert, mark_tag, timeline and other
 * enrolments, which follow. If the name is not in when only the fallback margin of the window is
 * left (get rate-limited, WeCom slow, or get failed), the welcome goes without it (the step's
 * fallbackText) and the second stage asks WeCom again.
 */
export async function contactAdded(event: ContactAdded & { key: string }, done: WelcomeStage | null, deps: EventDeps): Promise<void> {
  const { key, ...added } = event;
  const remaining = added.welcomeDeadline ? added.welcomeDeadline.getTime() - Date.now() : 0;
  const { welcomeNow } = deps;
  if (!done && welcomeNow && added.welcomeCode && remaining > 0) {
    const stage = await welcomeFirst(added, remaining, welcomeNow, deps);
    throw new DeferWork(new Date(), 'welcome sent; the rest of the event follows', { welcomed: stage });
  }
  await theRest(added, key, done ?? { taken: false }, deps);
}

async function welcomeFirst(
  added: ContactAdded,
  remaining: number,
  welcomeNow: NonNullable<EventDeps['welcomeNow']>,
  deps: EventDeps,
): Promise<WelcomeStage> {
  const margin = deps.welcomeFallbackMarginMs ?? DEFAULT_WELCOME_FALLBACK_MARGIN_MS;
  const budget = remaining - margin;
  // Inside the margin already (a backlog): no time to wait for the name, so do not ask for it here.
  const [snapshot, channelTags] = await Promise.all([
    budget > 0 ? settledWithin(deps.client.externalContact.get(added.externalUserId).then(contactSnapshot), budget) : null,
    channelTagsOf(added, deps),
  ]);
  const follow = snapshot?.follows.find((f) => f.userId === added.userId);
  const taken = await welcomeNow(added, {
    ...(snapshot ? { name: snapshot.name, company: snapshot.corpName ?? '' } : {}),
    tagIds: [...new Set([...(follow?.tagIds ?? []), ...channelTags])],
  });
  return { snapshot, taken };
}

async function theRest(added: ContactAdded, key: string, done: WelcomeStage, deps: EventDeps): Promise<void> {
  const { pool } = deps;
  const { externalUserId, userId, state, at } = added;
  const snapshot: ContactSnapshot = done.snapshot ?? contactSnapshot(await deps.client.externalContact.get(externalUserId));
  await pool.upsertFromWecom(snapshot, at);
  await pool.addTimeline({ externalUserId, userId, at, kind: 'added', key: `${key}:added`, data: { state } });
  const channelTags = await channelTagsOf(added, deps);
  if (state && channelTags.length > 0) {
    // Stored first (the upsert set the relation's tags to WeCom's, which lack them); WeCom's mark_tag follows.
    await pool.addTags({ externalUserId, userId, tagIds: channelTags });
    await deps.client.tags.mark({ userid: userId, external_userid: externalUserId, add_tag: channelTags });
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

/** A contact that came through a 联系我 channel gets the channel's tags. */
function channelTagsOf(added: ContactAdded, deps: EventDeps): Promise<string[]> {
  return added.state ? deps.pool.tagIdsForState(added.state) : Promise.resolve([]);
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
