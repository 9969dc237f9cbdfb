import mongoose from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BulkTagJobView, TagLibraryModule } from '../../server/src/tag-library/index.ts';
import { eventually } from '../support/eventually.ts';
import { startTagHarness, type TagHarness } from './harness.ts';

const MARK = '/externalcontact/mark_tag';
let h: TagHarness;
let tag: { hot: string; cold: string };
/** Every (customer, rep) relation of the corp, as `externalUserId/userId`. */
let relations: string[];
let running: TagLibraryModule[] = [];

beforeAll(async () => {
  h = await startTagHarness();
  for (const userid of ['zhangwei', 'wangfang', 'lina']) h.sim.state.addRep({ userid, name: userid });
  const group = h.sim.state.addTags({ groupName: '意向', tags: [{ name: '高意向' }, { name: '低意向' }] });
  tag = { hot: group.tags[0]!.id, cold: group.tags[1]!.id };
  for (let i = 0; i < 8; i++) {
    // Every third customer also follows a second rep: 8 customers, 11 relations.
    const reps = i % 3 === 0 ? ['zhangwei', 'wangfang'] : [i % 2 ? 'wangfang' : 'lina'];
    h.sim.state.addContact({ name: `客户${i}` }, reps.map((userid) => ({ userid, tagIds: [tag.cold] })));
  }
  await h.mirror();
  relations = (await h.models.FollowRelation.find({}).lean()).map((r) => `${r.externalUserId}/${r.userId}`).sort();
});
afterAll(() => h?.close());
beforeEach(async () => {
  h.sim.resetCalls();
  h.sim.clearFaults();
  await Promise.all(running.map((m) => m.bulk.stop()));
  running = [];
});

async function start(worker = {}) {
  const instance = await h.instance(worker);
  instance.bulk.start();
  running.push(instance);
  return instance;
}

async function post(body: unknown) {
  return h.api('/api/admin/bulk-tags', { method: 'POST', body });
}

async function job(id: string): Promise<BulkTagJobView> {
  return ((await (await h.api(`/api/admin/bulk-tags/${id}`)).json()) as { job: BulkTagJobView }).job;
}

const finished = (id: string) => eventually(async () => ((await job(id)).status === 'done' ? job(id) : null), `bulk job ${id} done`);

/** The relations WeCom accepted a mark_tag for, one entry per accepted call. */
const marked = () =>
  h.sim
    .calls(MARK)
    .filter((c) => c.errcode === 0)
    .map((c) => {
      const body = c.body as { external_userid: string; userid: string };
      return `${body.external_userid}/${body.userid}`;
    })
    .sort();

describe('bulk tagging', () => {
  it('validates the request: target, known tag ids, a readable segment', async () => {
    const both = await post({ segmentId: 'all', filter: {}, add: [tag.hot] });
    expect(both.status).toBe(400);
    expect(((await both.json()) as { message: string }).message).toMatch(/^segmentId: give either segmentId or filter/);
    const none = await post({ segmentId: 'all' });
    expect(((await none.json()) as { message: string }).message).toMatch(/^add: give at least one tag id/);
    const unknown = await post({ segmentId: 'all', add: [tag.hot], remove: ['et-nope'] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { message: string }).message).toMatch(/^remove: unknown tag ids et-nope/);
    const segment = await post({ segmentId: 'gone', add: [tag.hot] });
    expect(segment.status).toBe(404);
    expect(((await segment.json()) as { message: string }).message).toBe('segmentId: no segment gone');
    expect((await h.api('/api/admin/bulk-tags/not-an-id')).status).toBe(400);
    expect((await h.api('/api/admin/bulk-tags/0123456789abcdef01234567')).status).toBe(404);
    expect(await h.models.FollowRelation.countDocuments({ tagIds: tag.hot })).toBe(0);
  });

  it('marks each relation of the segment once (a customer listed twice too), with progress and the mirror updated', async () => {
    const res = await post({ segmentId: 'twice', add: [tag.hot], remove: [tag.cold] });
    expect(res.status).toBe(202);
    const { job: queued } = (await res.json()) as { job: BulkTagJobView };
    expect(queued).toMatchObject({ status: 'preparing', add: [tag.hot], remove: [tag.cold], done: 0, failed: 0, errors: [] });
    await start();
    const done = await finished(queued.id);
    expect(done).toMatchObject({ total: relations.length, done: relations.length, failed: 0, errors: [], error: null });
    expect(marked()).toEqual(relations);
    expect(h.sim.calls(MARK).every((c) => JSON.stringify((c.body as { add_tag: string[] }).add_tag) === JSON.stringify([tag.hot]))).toBe(true);
    // In WeCom and in the mirror (with the change on the timeline, as the sidebar's tag edit does).
    expect([...h.sim.state.contacts.values()].flatMap((c) => c.follows.map((f) => f.tagIds))).toEqual(relations.map(() => [tag.hot]));
    const mirrored = await h.models.FollowRelation.find({}).lean();
    expect(mirrored.every((r) => r.tagIds.join() === tag.hot)).toBe(true);
    expect(await h.models.TimelineEvent.countDocuments({ kind: 'tags_changed', key: mongoose.trusted({ $regex: '^bulk-tags:' }) })).toBe(relations.length);
  });

  it('works on a filter, and records a relation WeCom refuses while the others go on', async () => {
    const lost = [...h.sim.state.contacts.values()].find((c) => c.follows.some((f) => f.userid === 'wangfang'))!;
    h.sim.state.removeFollow(lost.externalUserid, 'wangfang'); // the mirror has not heard yet: WeCom answers 84061
    const targets = relations.filter((r) => r.endsWith('/wangfang'));
    const { job: queued } = (await (await post({ filter: { reps: ['wangfang'] }, add: [tag.cold] })).json()) as { job: BulkTagJobView };
    await start();
    const done = await finished(queued.id);
    expect(done).toMatchObject({ total: targets.length, done: targets.length - 1, failed: 1 });
    expect(done.errors).toEqual([{ externalUserId: lost.externalUserid, userId: 'wangfang', message: expect.stringContaining('errcode 84061') }]);
    expect(marked()).toEqual(targets.filter((r) => r !== `${lost.externalUserid}/wangfang`));
    expect(await h.models.FollowRelation.countDocuments({ userId: 'wangfang', tagIds: tag.cold })).toBe(targets.length - 1);
    h.sim.state.addFollow(lost.externalUserid, { userid: 'wangfang', tagIds: [tag.hot] });
  });

  it('retries WeCom rate limiting (45009) with backoff, past the client\'s own retries', async () => {
    // More 45009s in a row than the client's 4 attempts: the queue's backoff has to carry the job.
    h.sim.inject({ api: MARK, errcode: 45009, times: 6 });
    const { job: queued } = (await (await post({ segmentId: 'all', remove: [tag.hot] })).json()) as { job: BulkTagJobView };
    await start({ concurrency: 1 });
    const done = await finished(queued.id);
    expect(done).toMatchObject({ total: relations.length, done: relations.length, failed: 0 });
    expect(h.sim.calls(MARK).filter((c) => c.errcode === 45009)).toHaveLength(6);
    expect(marked()).toEqual(relations);
  });

  it('resumes after a worker stops midway (and takes over a crashed instance\'s lease), marking each relation once', async () => {
    h.sim.inject({ api: MARK, delayMs: 60, times: 1_000 });
    const { job: queued } = (await (await post({ segmentId: 'all', add: [tag.hot] })).json()) as { job: BulkTagJobView };
    const first = await start({ concurrency: 1 });
    await eventually(async () => ((await job(queued.id)).done >= 3 ? true : null), 'three relations marked');
    await first.bulk.stop();
    const stopped = await job(queued.id);
    expect(stopped.status).toBe('running');
    expect(stopped.done).toBeLessThan(relations.length);
    // Another instance crashed holding a relation: its lease ran out, so that relation is claimable again.
    await h.store.connection.collection('bulk_tag_targets').updateOne(
      { jobId: queued.id, status: 'pending' },
      { $set: { status: 'running', runAt: null, leaseOwner: 'crashed-instance', leaseUntil: new Date(Date.now() - 1_000) } },
    );
    h.sim.clearFaults();
    await start();
    const done = await finished(queued.id);
    expect(done).toMatchObject({ total: relations.length, done: relations.length, failed: 0 });
    expect(marked()).toEqual(relations);
  });
});
