import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TagListItem } from '../../server/src/contacts/index.ts';
import { startTagHarness, type TagHarness } from './harness.ts';

let h: TagHarness;
let level: { groupId: string; a: string; b: string };
let customer: string;


beforeAll(async () => {
  h = await startTagHarness();
  h.sim.state.addRep({ userid: 'zhangwei', name: '张伟' });
  h.sim.state.addRep({ userid: 'wangfang', name: '王芳' });
  const group = h.sim.state.addTags({ groupName: '客户等级', tags: [{ name: 'A类' }, { name: 'B类' }] });
  level = { groupId: group.groupId, a: group.tags[0]!.id, b: group.tags[1]!.id };
  // One customer tagged A类 by both reps counts once.
  customer = h.sim.state.addContact({ name: '陈静' }, [
    { userid: 'zhangwei', tagIds: [level.a] },
    { userid: 'wangfang', tagIds: [level.a, level.b] },
  ]).externalUserid;
  h.sim.state.addContact({ name: '林涛' }, [{ userid: 'zhangwei', tagIds: [level.b] }]);
  await h.mirror();
});
afterAll(() => h?.close());
beforeEach(() => {
  h.sim.resetCalls();
  h.sim.clearFaults();
});

const tags = async () => ((await (await h.api('/api/admin/tags')).json()) as { tags: TagListItem[] }).tags;
const bodyOf = async (res: Response) => (await res.json()) as { error: string; message: string; issues?: Array<{ path: string }>; tag?: TagListItem };

describe('tag library: admin guard and validation', () => {
  it('refuses callers without the admin token (401) or with a wrong one (403)', async () => {
    expect((await fetch(`${h.server.base}/api/admin/tags`, { method: 'POST' })).status).toBe(401);
    expect((await h.api('/api/admin/tags', { method: 'POST', body: { groupName: 'x', name: 'y' }, token: 'wrong-token-of-same-length!!!' })).status).toBe(403);
    expect((await h.api('/api/admin/bulk-tags', { method: 'POST', body: {}, token: 'wrong' })).status).toBe(403);
  });

  it('names the field of a bad request and asks WeCom nothing', async () => {
    const noName = await h.api('/api/admin/tags', { method: 'POST', body: { groupName: '来源' } });
    expect(noName.status).toBe(400);
    expect((await bodyOf(noName)).issues?.[0]?.path).toBe('name');
    const both = await h.api('/api/admin/tags', { method: 'POST', body: { groupName: '来源', groupId: level.groupId, name: 'x' } });
    expect(both.status).toBe(400);
    expect((await bodyOf(both)).message).toMatch(/^groupId: give either groupId/);
    const long = await h.api('/api/admin/tags', { method: 'POST', body: { groupName: '来源', name: '长'.repeat(31) } });
    expect((await bodyOf(long)).message).toMatch(/name: WeCom limits a tag name to 30 characters/);
    const empty = await h.api(`/api/admin/tags/${level.a}`, { method: 'PATCH', body: {} });
    expect(empty.status).toBe(400);
    const smuggled = await h.api('/api/admin/tags', { method: 'POST', body: { groupId: { $ne: null }, name: 'x' } });
    expect(smuggled.status).toBe(400);
    expect(h.sim.calls('/externalcontact/add_corp_tag')).toHaveLength(0);
  });

  it('answers 404 for a tag or group it does not know', async () => {
    const tag = await h.api('/api/admin/tags/et-nope', { method: 'PATCH', body: { name: 'x' } });
    expect(tag.status).toBe(404);
    expect((await bodyOf(tag)).message).toMatch(/^tagId: no tag et-nope/);
    expect((await h.api('/api/admin/tag-groups/et-nope', { method: 'DELETE' })).status).toBe(404);
    expect((await h.api('/api/admin/tags', { method: 'POST', body: { groupId: 'et-nope', name: 'x' } })).status).toBe(404);
    expect(h.sim.calls()).toHaveLength(0);
  });
});

describe('tag library: GET /api/admin/tags', () => {
  it('lists each tag with its group, order and the customers carrying it (once per customer)', async () => {
    const listed = await tags();
    expect(listed).toEqual(
      expect.arrayContaining([
        { tagId: level.a, name: 'A类', groupId: level.groupId, groupName: '客户等级', order: 0, groupOrder: 0, customers: 1 },
        expect.objectContaining({ tagId: level.b, customers: 2 }),
      ]),
    );
  });
});

describe('tag library: create, rename, reorder', () => {
  it('creates a tag in a new group through add_corp_tag and mirrors it', async () => {
    const res = await h.api('/api/admin/tags', { method: 'POST', body: { groupName: '来源渠道', name: '线下展会', order: 3 } });
    expect(res.status).toBe(201);
    const { tag } = await bodyOf(res);
    expect(h.sim.calls('/externalcontact/add_corp_tag').map((c) => c.body)).toEqual([{ group_name: '来源渠道', tag: [{ name: '线下展会', order: 3 }] }]);
    expect(tag).toMatchObject({ name: '线下展会', groupName: '来源渠道', order: 3 });
    expect(h.sim.state.findTag(tag!.tagId)?.tag.name).toBe('线下展会');
    expect(await tags()).toContainEqual(expect.objectContaining({ tagId: tag!.tagId, groupId: tag!.groupId, customers: 0 }));
  });

  it('adds to an existing group by id', async () => {
    const res = await h.api('/api/admin/tags', { method: 'POST', body: { groupId: level.groupId, name: 'C类' } });
    expect(res.status).toBe(201);
    expect(h.sim.calls('/externalcontact/add_corp_tag')[0]?.body).toEqual({ group_id: level.groupId, tag: [{ name: 'C类' }] });
    expect((await bodyOf(res)).tag).toMatchObject({ groupId: level.groupId, groupName: '客户等级' });
  });

  it('answers 409 naming the clash for a name the group has, without asking WeCom', async () => {
    const res = await h.api('/api/admin/tags', { method: 'POST', body: { groupName: '客户等级', name: 'A类' } });
    expect(res.status).toBe(409);
    expect(await bodyOf(res)).toEqual({ error: 'conflict', message: 'name: a tag "A类" already exists in group "客户等级"' });
    expect(h.sim.calls('/externalcontact/add_corp_tag')).toHaveLength(0);
  });

  it("answers 409 when WeCom has the name though the mirror is behind (WeCom's 40071)", async () => {
    h.sim.state.addTags({ groupId: level.groupId, tags: [{ name: '只在企微' }] });
    const res = await h.api('/api/admin/tags', { method: 'POST', body: { groupId: level.groupId, name: '只在企微' } });
    expect(res.status).toBe(409);
    expect((await bodyOf(res)).message).toMatch(/^name: WeCom already has that name/);
    expect(h.sim.calls('/externalcontact/add_corp_tag').map((c) => c.errcode)).toEqual([40071]);
  });

  it('renames and reorders a tag through edit_corp_tag; a rename onto a sibling is 409', async () => {
    const res = await h.api(`/api/admin/tags/${level.b}`, { method: 'PATCH', body: { name: 'B类-观望', order: 7 } });
    expect(res.status).toBe(200);
    expect((await bodyOf(res)).tag).toMatchObject({ tagId: level.b, name: 'B类-观望', order: 7 });
    expect(h.sim.calls('/externalcontact/edit_corp_tag').map((c) => c.body)).toEqual([{ id: level.b, name: 'B类-观望', order: 7 }]);
    expect(h.sim.state.findTag(level.b)?.tag).toMatchObject({ name: 'B类-观望', order: 7 });
    expect(await tags()).toContainEqual(expect.objectContaining({ tagId: level.b, name: 'B类-观望', order: 7, customers: 2 }));

    const clash = await h.api(`/api/admin/tags/${level.b}`, { method: 'PATCH', body: { name: 'A类' } });
    expect(clash.status).toBe(409);
    expect(h.sim.calls('/externalcontact/edit_corp_tag')).toHaveLength(1);
  });

  it('renames and reorders a group on all its tags', async () => {
    const res = await h.api(`/api/admin/tag-groups/${level.groupId}`, { method: 'PATCH', body: { name: '意向等级', order: 9 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ group: { groupId: level.groupId, groupName: '意向等级', groupOrder: 9 } });
    expect(h.sim.state.tagGroups.find((g) => g.groupId === level.groupId)).toMatchObject({ groupName: '意向等级', order: 9 });
    const inGroup = (await tags()).filter((t) => t.groupId === level.groupId);
    expect(inGroup.length).toBeGreaterThan(1);
    expect(inGroup.every((t) => t.groupName === '意向等级' && t.groupOrder === 9)).toBe(true);
    const clash = await h.api(`/api/admin/tag-groups/${level.groupId}`, { method: 'PATCH', body: { name: '来源渠道' } });
    expect(clash.status).toBe(409);
    expect((await bodyOf(clash)).message).toBe('name: a tag group "来源渠道" already exists');
  });
});

describe('tag library: WeCom faults', () => {
  it('rides out a 45009 (the client retries) and answers 502 with the reason for what WeCom refuses', async () => {
    h.sim.inject({ api: '/externalcontact/edit_corp_tag', errcode: 45009 });
    expect((await h.api(`/api/admin/tags/${level.a}`, { method: 'PATCH', body: { order: 2 } })).status).toBe(200);
    expect(h.sim.calls('/externalcontact/edit_corp_tag').map((c) => c.errcode)).toEqual([45009, 0]);

    h.sim.inject({ api: '/externalcontact/edit_corp_tag', errcode: 48002 });
    const refused = await h.api(`/api/admin/tags/${level.a}`, { method: 'PATCH', body: { name: '不会改' } });
    expect(refused.status).toBe(502);
    expect(await refused.json()).toMatchObject({ error: 'wecom_error', message: expect.stringContaining('errcode 48002'), retryable: false });
    expect((await tags()).find((t) => t.tagId === level.a)?.name).toBe('A类');
  });

  it('answers 404 when WeCom no longer knows the id (40068) and leaves the mirror alone', async () => {
    h.sim.inject({ api: '/externalcontact/del_corp_tag', errcode: 40068 });
    const res = await h.api(`/api/admin/tags/${level.a}`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect((await bodyOf(res)).message).toMatch(/^tagId: WeCom does not know this id/);
    expect((await tags()).some((t) => t.tagId === level.a)).toBe(true);
  });
});

describe('tag library: delete', () => {
  it('deletes a tag through del_corp_tag, from the library and from every customer carrying it', async () => {
    const res = await h.api(`/api/admin/tags/${level.a}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(h.sim.calls('/externalcontact/del_corp_tag').map((c) => c.body)).toEqual([{ tag_id: [level.a] }]);
    expect((await tags()).some((t) => t.tagId === level.a)).toBe(false);
    const relations = await h.models.FollowRelation.find({ externalUserId: customer }).lean();
    expect(relations.map((r) => r.tagIds.includes(level.a))).toEqual([false, false]);
    expect(relations.find((r) => r.userId === 'wangfang')?.tagIds).toContain(level.b);
  });

  it('deletes a whole group, its tags and their use on customers', async () => {
    const res = await h.api(`/api/admin/tag-groups/${level.groupId}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(h.sim.calls('/externalcontact/del_corp_tag').map((c) => c.body)).toEqual([{ group_id: [level.groupId] }]);
    expect(h.sim.state.tagGroups.some((g) => g.groupId === level.groupId)).toBe(false);
    expect((await tags()).some((t) => t.groupId === level.groupId)).toBe(false);
    expect(await h.models.FollowRelation.countDocuments({ tagIds: level.b })).toBe(0);
  });
});

describe('one customer’s tags from the customer page', () => {
  it('marks the tag in WeCom through the chosen rep and mirrors it; refuses an unknown rep, tag or an empty change', async () => {
    const created = await h.api('/api/admin/tags', { method: 'POST', body: { groupName: '意向', name: '高意向' } });
    const tagId = (await bodyOf(created)).tag!.tagId;
    const lin = (await h.models.Contact.findOne({ name: '林涛' }).lean())!.externalUserId;
    const put = (body: unknown) => h.api(`/api/admin/contacts/${lin}/tags`, { method: 'PUT', body });

    const res = await put({ userId: 'zhangwei', add: [tagId] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { tagIds: string[] }).tagIds).toContain(tagId);
    expect(h.sim.calls('/externalcontact/mark_tag').at(-1)!.body).toMatchObject({ userid: 'zhangwei', external_userid: lin, add_tag: [tagId] });
    expect((await h.models.FollowRelation.findOne({ externalUserId: lin, userId: 'zhangwei' }).lean())!.tagIds).toContain(tagId);

    const stranger = await put({ userId: 'wangfang', add: [tagId] });
    expect(stranger.status).toBe(404);
    expect((await bodyOf(stranger)).message).toMatch(/^userId: wangfang is not a rep of customer/);
    expect((await put({ userId: 'zhangwei', add: ['no-such-tag'] })).status).toBe(404);
    expect((await put({ userId: 'zhangwei', add: [] })).status).toBe(400);
  });
});
