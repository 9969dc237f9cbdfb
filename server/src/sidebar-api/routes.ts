import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { z } from 'zod';
import type { ContactModels, ContactPool, FollowRelation } from '../contacts/index.ts';
import type { AppContext, AppRouter, Guard } from '../http/index.ts';
import { scriptKey, type ScriptLibrary, type ScriptView } from '../script-library/index.ts';
import { renderContent, STAGES, type SopModels } from '../sop/index.ts';
import type { Replies } from '../replies/index.ts';
import { snoozedUntil, type RepTaskModel } from '../tasks/index.ts';
import type { ContactTagged, WecomClient } from '../wecom/index.ts';
import { activeSteps, fitFacts, profileOf, relationOf, setStageOverride, stageView, VISIBLE_STATUSES, type ReadDeps } from './customer.ts';
import type { Catalog } from './catalog.ts';
import { jssdkConfig } from './jssdk.ts';
import { rankScripts, type FitFacts } from './ranking.ts';

export interface RouteDeps extends ReadDeps {
  guard: Guard;
  pool: ContactPool;
  tasks: RepTaskModel;
  replies: Pick<Replies, 'markedByRep'>;
  scripts: ScriptLibrary;
  client: Pick<WecomClient, 'tags' | 'jsapi'>;
  corp: { corpId: string; agentId: string };
  onContactTagged?: ((event: ContactTagged) => Promise<void>) | undefined;
  now: () => Date;
}

/** WeCom ids (external_userid, chat_id, tag ids) are URL-safe base64-ish strings. */
const wecomId = z.string().regex(/^[\w-]{1,128}$/, 'must be a WeCom id');
const objectId = z.string().regex(/^[0-9a-f]{24}$/, 'must be an id');
const clientKey = z.string().regex(/^[\w-]{8,64}$/, 'must be 8-64 letters, digits, - or _');
const customerParams = z.object({ id: wecomId });
const groupParams = z.object({ chatId: wecomId });
const jssdkQuery = z.object({ url: z.url({ protocol: /^https?$/ }).max(2000) });
const tagsBody = z
  .object({ add: z.array(wecomId).max(50).default([]), remove: z.array(wecomId).max(50).default([]) })
  .strict()
  .refine((b) => b.add.length + b.remove.length > 0, 'add or remove at least one tag');
const stageBody = z.object({ stage: z.enum(STAGES).nullable() }).strict();
const timelineQuery = z.object({
  limit: z.coerce.number().int().min(1).max(50).default(20),
  cursor: z
    .string()
    .regex(/^\d{13}_[0-9a-f]{24}$/, 'must be a cursor from a previous page')
    .optional(),
});
const taskParams = customerParams.extend({ taskId: objectId });
const snoozeBody = z.object({ until: z.iso.datetime({ offset: true }) }).strict();
const repliedBody = z.object({ key: clientKey }).strict();
const noteBody = z.object({ key: clientKey, text: z.string().trim().min(1).max(2000) }).strict();
const usageBody = z
  .object({
    key: clientKey,
    scriptKey,
    action: z.enum(['send', 'copy']),
    externalUserId: wecomId.optional(),
    chatId: wecomId.optional(),
  })
  .strict()
  .refine((b) => (b.externalUserId === undefined) !== (b.chatId === undefined), 'give exactly one of externalUserId or chatId');

const SNOOZE_MAX_MS = 90 * 86_400_000;
const CUSTOMER_LIST_LIMIT = 200;
const TASK_INBOX_LIMIT = 200;
const OPEN_TASK: Array<'open' | 'snoozed'> = ['open', 'snoozed'];
const TASK_FIELDS = { externalUserId: 1, title: 1, detail: 1, dueAt: 1, status: 1, source: 1 };

export function mountSidebarRoutes(router: AppRouter, deps: RouteDeps): void {
  const { contacts, guard } = deps;
  const repOf = (ctx: AppContext) => ctx.state.repId!;

  /** The rep's relation to the customer in the URL, or 403: reps see only the customers they follow. */
  const followed = async (ctx: AppContext): Promise<FollowRelation> => {
    const { id } = customerParams.parse(ctx.params);
    const relation = await relationOf(contacts, repOf(ctx), id);
    if (!relation) return ctx.throw(403, 'sidebar: you do not follow this customer');
    return relation;
  };

  /** The group chat, or 403 unless the rep is in it (owner, admin or member). */
  const groupOf = async (ctx: AppContext, chatId: string) => {
    const group = await contacts.CustomerGroup.findOne({ chatId }).lean();
    const rep = repOf(ctx);
    const isMember = group && (group.owner === rep || group.adminList.includes(rep) || group.members.some((m) => m.type === 1 && m.userId === rep));
    if (!isMember) return ctx.throw(403, 'sidebar: you are not in this customer group');
    return group;
  };

  router.get('/api/sidebar/jssdk-config', guard, async (ctx) => {
    const { url } = jssdkQuery.parse(ctx.query);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await jssdkConfig({ ...deps.corp, tickets: deps.client.jsapi }, url, deps.now());
  });

  router.get('/api/sidebar/customers', guard, async (ctx) => {
    const relations = await contacts.FollowRelation.find(
      { userId: repOf(ctx), status: mongoose.trusted({ $in: VISIBLE_STATUSES }) },
      { externalUserId: 1, remark: 1 },
    )
      .limit(CUSTOMER_LIST_LIMIT)
      .lean();
    const people = await contacts.Contact.find(
      { externalUserId: mongoose.trusted({ $in: relations.map((r) => r.externalUserId) }) },
      { externalUserId: 1, name: 1, avatar: 1, corpName: 1 },
    ).lean();
    const byId = new Map(people.map((p) => [p.externalUserId, p]));
    ctx.body = relations
      .map((r) => {
        const person = byId.get(r.externalUserId);
        return { externalUserId: r.externalUserId, name: person?.name ?? '', remark: r.remark, avatar: person?.avatar ?? '', corpName: person?.corpName ?? '' };
      })
      .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
  });

  router.get('/api/sidebar/customers/:id/profile', guard, async (ctx) => {
    const { id } = customerParams.parse(ctx.params);
    const profile = await profileOf(deps, repOf(ctx), id, deps.now());
    if (!profile) return ctx.throw(403, 'sidebar: you do not follow this customer');
    ctx.body = profile;
  });

  router.put('/api/sidebar/customers/:id/stage', guard, async (ctx) => {
    const relation = await followed(ctx);
    const { stage } = stageBody.parse(ctx.request.body);
    const { externalUserId } = relation;
    const now = deps.now();
    await setStageOverride(deps, { externalUserId, stage, userId: repOf(ctx), at: now });
    ctx.body = await stageView(deps, externalUserId, now);
  });

  router.get('/api/sidebar/customers/:id/tags', guard, async (ctx) => {
    const { tagIds } = await followed(ctx);
    ctx.body = groupTags(await tagLibrary(contacts), tagIds);
  });

  router.put('/api/sidebar/customers/:id/tags', guard, async (ctx) => {
    const relation = await followed(ctx);
    const body = tagsBody.parse(ctx.request.body);
    // Editing a contact's tags leaves the library as it is: one read validates and draws the answer.
    const library = await tagLibrary(contacts);
    const known = new Set(library.map((tag) => tag.tagId));
    const unknown = [...body.add, ...body.remove].filter((id) => !known.has(id));
    if (unknown.length > 0) return ctx.throw(400, `tags: unknown tag ids ${unknown.join(', ')}`);
    const { externalUserId } = relation;
    const rep = repOf(ctx);
    // WeCom first: if it refuses, nothing changes here and the rep sees the error.
    await deps.client.tags.mark({ userid: rep, external_userid: externalUserId, add_tag: body.add, remove_tag: body.remove });
    const removing = new Set(body.remove);
    const tagIds = [...new Set([...relation.tagIds, ...body.add])].filter((id) => !removing.has(id));
    const at = deps.now();
    const { added, removed } = await deps.pool.setFollowTags({ externalUserId, userId: rep, tagIds, at, key: `sidebar-tags:${randomUUID()}` });
    ctx.state.log.info({ repId: rep, externalUserId, added, removed }, 'rep edited customer tags');
    // WeCom sends no callback for changes made through the API, so contact_tagged SOPs hear it from here.
    if (added.length > 0) await deps.onContactTagged?.({ externalUserId, userId: rep, tagIds: added, at });
    ctx.body = groupTags(library, tagIds);
  });

  router.get('/api/sidebar/customers/:id/timeline', guard, async (ctx) => {
    const { externalUserId } = await followed(ctx);
    ctx.body = await timelinePage(deps, externalUserId, timelineQuery.parse(ctx.query));
  });

  // 我的待办: every open task of the rep's, and the unassigned ones on customers they follow, soonest first.
  router.get('/api/sidebar/tasks', guard, async (ctx) => {
    const rep = repOf(ctx);
    const followedIds = await contacts.FollowRelation.distinct('externalUserId', { userId: rep, status: mongoose.trusted({ $in: VISIBLE_STATUSES }) });
    const tasks = await deps.tasks
      .find(
        { externalUserId: mongoose.trusted({ $in: followedIds }), status: mongoose.trusted({ $in: OPEN_TASK }), userId: mongoose.trusted({ $in: [rep, null] }) },
        TASK_FIELDS,
      )
      .sort({ dueAt: 1 })
      .limit(TASK_INBOX_LIMIT)
      .lean();
    const people = await contacts.Contact.find({ externalUserId: mongoose.trusted({ $in: [...new Set(tasks.map((t) => t.externalUserId))] }) }, { externalUserId: 1, name: 1, avatar: 1 }).lean();
    const byId = new Map(people.map((p) => [p.externalUserId, p]));
    ctx.body = tasks.map((task) => ({ ...task, customer: { name: byId.get(task.externalUserId)?.name ?? '', avatar: byId.get(task.externalUserId)?.avatar ?? '' } }));
  });

  router.get('/api/sidebar/customers/:id/tasks', guard, async (ctx) => {
    const { externalUserId } = await followed(ctx);
    ctx.body = await deps.tasks
      .find(
        { externalUserId, status: mongoose.trusted({ $in: OPEN_TASK }), userId: mongoose.trusted({ $in: [repOf(ctx), null] }) },
        TASK_FIELDS,
      )
      .sort({ dueAt: 1 })
      .lean();
  });

  const updateTask = async (ctx: AppContext, update: Record<string, unknown>) => {
    const { externalUserId } = await followed(ctx);
    const { taskId } = taskParams.parse(ctx.params);
    const task = await deps.tasks
      .findOneAndUpdate(
        { _id: taskId, externalUserId, userId: mongoose.trusted({ $in: [repOf(ctx), null] }) },
        { $set: update },
        { returnDocument: 'after', projection: TASK_FIELDS },
      )
      .lean();
    if (!task) return ctx.throw(404, 'sidebar: no such task for this customer');
    ctx.body = task;
  };

  router.post('/api/sidebar/customers/:id/tasks/:taskId/done', guard, (ctx) => updateTask(ctx, { status: 'done' }));

  router.post('/api/sidebar/customers/:id/tasks/:taskId/snooze', guard, (ctx) => {
    const until = new Date(snoozeBody.parse(ctx.request.body).until);
    const now = deps.now().getTime();
    if (until.getTime() <= now || until.getTime() > now + SNOOZE_MAX_MS) ctx.throw(400, 'until: must be in the next 90 days');
    return updateTask(ctx, snoozedUntil(until));
  });

  // 客户已回复: the customer answered in WeCom, where this product cannot read the chat.
  router.post('/api/sidebar/customers/:id/replied', guard, async (ctx) => {
    const { externalUserId } = await followed(ctx);
    const { key } = repliedBody.parse(ctx.request.body);
    const at = deps.now();
    await deps.replies.markedByRep({ externalUserId, userId: repOf(ctx), at, key });
    ctx.state.log.info({ repId: repOf(ctx), externalUserId }, 'rep marked the customer as replied');
    ctx.status = 201;
    ctx.body = { externalUserId, at, source: 'sidebar_mark' };
  });

  router.get('/api/sidebar/customers/:id/notes', guard, async (ctx) => {
    const { externalUserId } = await followed(ctx);
    ctx.body = await deps.sidebar.Note.find({ externalUserId }, { key: 1, userId: 1, text: 1, at: 1 }).sort({ at: -1 }).limit(100).lean();
  });

  router.post('/api/sidebar/customers/:id/notes', guard, async (ctx) => {
    const { externalUserId } = await followed(ctx);
    const { key, text } = noteBody.parse(ctx.request.body);
    const at = deps.now();
    // The key is matched with its owner and customer, so a key someone else used is a conflict, never their note.
    const mine = { key, externalUserId, userId: repOf(ctx) };
    const result = await deps.sidebar.Note.updateOne(mine, { $setOnInsert: { text, at } }, { upsert: true }).catch((err: unknown) => {
      if ((err as { code?: number }).code === 11000) return ctx.throw(409, 'notes: this key was used for another note');
      throw err;
    });
    if (result.upsertedCount === 1) {
      await deps.pool.addTimeline({ externalUserId, userId: repOf(ctx), at, kind: 'note', key: `note:${key}`, data: { text } });
    }
    ctx.status = result.upsertedCount === 1 ? 201 : 200;
    ctx.body = await deps.sidebar.Note.findOne(mine, { key: 1, userId: 1, text: 1, at: 1 }).lean();
  });

  router.get('/api/sidebar/customers/:id/scripts', guard, async (ctx) => {
    const relation = await followed(ctx);
    const now = deps.now();
    const [facts, contact, repName] = await Promise.all([
      fitFacts(deps, relation, now),
      contacts.Contact.findOne({ externalUserId: relation.externalUserId }, { name: 1, corpName: 1 }).lean(),
      deps.repNames.name(repOf(ctx)),
    ]);
    const vars = { name: contact?.name || relation.remark || undefined, company: contact?.corpName || undefined, rep: repName };
    ctx.body = await suggestions(deps.scripts, facts, vars);
  });

  router.get('/api/sidebar/groups', guard, async (ctx) => {
    ctx.body = await contacts.CustomerGroup.find({ 'members.userId': repOf(ctx), status: 'active' }, { _id: 0, chatId: 1, name: 1, memberCount: 1 })
      .sort({ name: 1 })
      .limit(CUSTOMER_LIST_LIMIT)
      .lean();
  });

  router.get('/api/sidebar/groups/:chatId', guard, async (ctx) => {
    const group = await groupOf(ctx, groupParams.parse(ctx.params).chatId);
    const [plans, steps, names] = await Promise.all([
      deps.sop.Plan.find({ 'template.target': 'group' }, { name: 1, templateId: 1, enabled: 1, audience: 1 }).lean(),
      activeSteps(deps.sop, group.chatId),
      Promise.all(group.members.filter((m) => m.type === 1).map(async (m) => [m.userId, await deps.repNames.name(m.userId)] as const)),
    ]);
    const repNames = new Map(names);
    ctx.body = {
      chatId: group.chatId,
      name: group.name,
      notice: group.notice,
      status: group.status,
      owner: { userId: group.owner, name: await deps.repNames.name(group.owner) },
      memberCount: group.memberCount,
      members: group.members.map((m) => ({ userId: m.userId, type: m.type, name: repNames.get(m.userId) ?? m.name, joinTime: m.joinTime })),
      sopPlans: plans
        .filter((p) => (p.audience?.groups.length ? p.audience.groups.includes(group.chatId) : true) && (p.audience?.reps.length ? p.audience.reps.includes(group.owner) : true))
        .map((p) => ({ id: String(p._id), name: p.name, templateId: p.templateId, enabled: p.enabled })),
      activeSteps: steps,
    };
  });

  router.get('/api/sidebar/groups/:chatId/scripts', guard, async (ctx) => {
    const group = await groupOf(ctx, groupParams.parse(ctx.params).chatId);
    const [steps, repName] = await Promise.all([activeSteps(deps.sop, group.chatId), deps.repNames.name(repOf(ctx))]);
    ctx.body = await suggestions(deps.scripts, { stage: null, tagNames: [], activeSteps: steps, recentTexts: [] }, { group: group.name, rep: repName });
  });

  router.post('/api/sidebar/script-usage', guard, async (ctx) => {
    const body = usageBody.parse(ctx.request.body);
    const rep = repOf(ctx);
    if (body.externalUserId && !(await relationOf(contacts, rep, body.externalUserId))) ctx.throw(403, 'sidebar: you do not follow this customer');
    if (body.chatId) await groupOf(ctx, body.chatId);
    const script = await deps.scripts.get(body.scriptKey);
    if (!script) return ctx.throw(404, 'sidebar: no such script');
    const recorded = await deps.scripts.recordUsage({ ...body, userId: rep, externalUserId: body.externalUserId ?? null, chatId: body.chatId ?? null });
    if (recorded && body.action === 'send' && body.externalUserId) {
      await deps.pool.addTimeline({
        externalUserId: body.externalUserId,
        userId: rep,
        at: deps.now(),
        kind: 'script_sent',
        key: `script:${body.key}`,
        data: { scriptKey: script.key, title: script.title },
      });
    }
    ctx.status = recorded ? 201 : 200;
    ctx.body = { recorded };
  });
}

/**
 * Enabled scripts, best fit first, with their text filled for this customer or group. Among equal
 * fits, scripts whose variables all have a value come first: in a group chat, a script written for
 * one customer ("{{name}}您好") would read oddly.
 */
async function suggestions(library: ScriptLibrary, facts: FitFacts, vars: Record<string, string | undefined>) {
  const scripts = await library.list({ enabledOnly: true });
  return rankScripts(scripts, facts)
    .map((s: ScriptView & { fit: number; reasons: unknown[] }) => {
      const rendered = renderContent(s.content, vars);
      return {
        key: s.key,
        category: s.category,
        title: s.title,
        text: rendered.text,
        attachments: s.attachments,
        fit: s.fit,
        reasons: s.reasons,
        // Not ready to send: these variables have no value for this customer and no default.
        complete: rendered.missing.length === 0,
        missing: rendered.missing,
      };
    })
    .sort((a, b) => b.fit - a.fit || Number(b.complete) - Number(a.complete));
}

/** The corp's tag library in WeCom's group order. */
function tagLibrary(contacts: ContactModels) {
  return contacts.Tag.find({}, { tagId: 1, name: 1, groupId: 1, groupName: 1, order: 1 }).sort({ groupId: 1, order: 1 }).lean();
}

/** The library grouped as WeCom groups it, each tag marked when this relation has it. */
function groupTags(tags: Awaited<ReturnType<typeof tagLibrary>>, selected: string[]) {
  const has = new Set(selected);
  const groups = new Map<string, { groupId: string; groupName: string; tags: Array<{ tagId: string; name: string; selected: boolean }> }>();
  for (const tag of tags) {
    let group = groups.get(tag.groupId);
    if (!group) groups.set(tag.groupId, (group = { groupId: tag.groupId, groupName: tag.groupName, tags: [] }));
    group.tags.push({ tagId: tag.tagId, name: tag.name, selected: has.has(tag.tagId) });
  }
  return [...groups.values()];
}

/**
 * One page of the timeline, newest first: the contact's events merged with the SOP messages sent to
 * them (kept in the SOP send ledger). The cursor is the last item's (at, _id), so items sharing a
 * timestamp are neither skipped nor repeated across pages.
 */
async function timelinePage(
  deps: { contacts: ContactModels; sop: SopModels; catalog: Catalog },
  externalUserId: string,
  query: { limit: number; cursor?: string | undefined },
) {
  const after = query.cursor ? query.cursor.split('_') : null;
  const before = after
    ? {
        $or: [
          { at: mongoose.trusted({ $lt: new Date(Number(after[0])) }) },
          { at: new Date(Number(after[0])), _id: mongoose.trusted({ $lt: new mongoose.Types.ObjectId(after[1]) }) },
        ],
      }
    : {};
  const newest = { at: -1, _id: -1 } as const;
  const [events, sends] = await Promise.all([
    deps.contacts.TimelineEvent.find({ externalUserId, ...before }, { at: 1, kind: 1, userId: 1, data: 1 }).sort(newest).limit(query.limit + 1).lean(),
    deps.sop.Send.find({ targetId: externalUserId, state: 'sent', ...before }, { at: 1, text: 1, channel: 1, sender: 1 }).sort(newest).limit(query.limit + 1).lean(),
  ]);
  const items = [
    ...events.map((e) => ({ id: String(e._id), at: e.at, kind: e.kind, userId: e.userId, data: e.data as unknown })),
    ...sends.map((s) => ({ id: String(s._id), at: s.at, kind: 'sop_sent', userId: s.sender ?? null, data: { text: s.text, channel: s.channel } as unknown })),
  ].sort((a, b) => b.at.getTime() - a.at.getTime() || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0)); // hex ObjectIds: string order = id order
  const page = items.slice(0, query.limit);
  const tagIds = page.flatMap((e) => (e.kind === 'tags_changed' ? tagIdsIn(e.data) : []));
  const names = (await deps.catalog.current()).tagNames(tagIds);
  const last = page.at(-1);
  return {
    events: page.map((e) => ({
      id: e.id,
      at: e.at,
      kind: e.kind,
      userId: e.userId,
      data: e.kind === 'tags_changed' ? withTagNames(e.data, names) : e.data,
    })),
    next: items.length > query.limit && last ? `${last.at.getTime()}_${last.id}` : null,
  };
}

function tagIdsIn(data: unknown): string[] {
  const { added, removed } = (data ?? {}) as { added?: unknown; removed?: unknown };
  return [added, removed].flatMap((list) => (Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []));
}

function withTagNames(data: unknown, names: Map<string, string>) {
  const { added, removed } = (data ?? {}) as { added?: string[]; removed?: string[] };
  const name = (id: string) => names.get(id) ?? id;
  return { ...(data as object), added: (added ?? []).map(name), removed: (removed ?? []).map(name) };
}
