import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ContactPool, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { createApp, startHttpServer, type RunningHttpServer } from '../../server/src/http/index.ts';
import { Health, createLogger, createMetrics } from '../../server/src/observability/index.ts';
import {
  callbackSignature,
  createWecomClient,
  createWecomIntegration,
  sealEnvelope,
  type WecomIntegration,
} from '../../server/src/wecom/index.ts';
import { events, startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { eventually } from '../support/eventually.ts';

const logger = createLogger({ level: 'silent' });
let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let models: ContactModels;
let wecom: WecomIntegration;
let http: RunningHttpServer;
let callbackUrl: string;
let douyinTag: string;
let vipTag: string;

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator();
  sim.state.addRep({ userid: 'zhangsan', name: '张三' });
  const group = sim.state.addTags({ groupName: '来源渠道', tags: [{ name: '抖音' }, { name: 'VIP' }] });
  [douyinTag, vipTag] = group.tags.map((t) => t.id) as [string, string];

  models = registerContactModels(store.connection);
  await Promise.all(Object.values(models).map((m) => m.init()));
  const metrics = createMetrics();
  wecom = createWecomIntegration({
    connection: store.connection,
    secrets: { token: sim.corp.token, encodingAesKey: sim.corp.encodingAesKey, corpId: sim.corp.corpId },
    client: createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger }),
    pool: new ContactPool(models),
    logger,
    metrics,
  });
  await wecom.inbox.init();
  http = await startHttpServer(createApp({ logger, metrics, health: new Health(), bodyLimitKb: 64, modules: [wecom.http] }), {
    host: '127.0.0.1',
    port: 0,
  });
  callbackUrl = `http://127.0.0.1:${http.port}/wecom/callback`;
  await models.Channel.create({ state: 'douyin-ad', name: '抖音投放', tagIds: [douyinTag] });
});

afterAll(async () => {
  await wecom?.worker.stop();
  await http?.close(1_000);
  await sim?.close();
  await store?.dispose();
});

beforeEach(() => wecom.worker.start());

/** Posts a hand-made envelope, signed with the corp's real token unless told otherwise. */
function postRaw(body: string, encrypted: string, options: { signature?: string } = {}) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = '12345';
  const signature = options.signature ?? callbackSignature(sim.corp.token, timestamp, nonce, encrypted);
  return fetch(`${callbackUrl}?msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body,
  });
}
const envelope = (encrypted: string) => `<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;

describe('WeCom callback → inbox → contact pool', () => {
  it('answers the URL check with the decrypted echostr', async () => {
    const check = await sim.verifyUrl(callbackUrl);
    expect(check.ok).toBe(true);
  });

  it('stores a channel-QR contact with its channel tags, written back to WeCom', async () => {
    const scan = sim.scanChannelQr({ customer: { name: '李小姐', corpName: '星河贸易' }, userid: 'zhangsan', state: 'douyin-ad' });
    const delivery = await sim.sendCallback(callbackUrl, scan.event);
    expect(delivery).toMatchObject({ status: 200, body: '' });

    const externalUserId = scan.contact.externalUserid;
    const relation = await eventually(
      () => models.FollowRelation.findOne({ externalUserId, userId: 'zhangsan', tagIds: douyinTag }).lean(),
      'relation with channel tag',
    );
    expect(relation).toMatchObject({ status: 'active', state: 'douyin-ad' });
    expect(relation.enteredAt).toBeInstanceOf(Date);
    expect(await models.Contact.findOne({ externalUserId }).lean()).toMatchObject({ name: '李小姐', corpName: '星河贸易' });
    expect(sim.calls('/externalcontact/mark_tag').map((c) => c.body)).toContainEqual(
      expect.objectContaining({ userid: 'zhangsan', external_userid: externalUserId, add_tag: [douyinTag] }),
    );
    expect(sim.state.requireFollow(externalUserId, 'zhangsan').tagIds).toContain(douyinTag);
    const kinds = (await models.TimelineEvent.find({ externalUserId }).lean()).map((e) => e.kind).sort();
    expect(kinds).toEqual(['added', 'tags_changed']);
  });

  it('processes a duplicate delivery of one event once', async () => {
    const scan = sim.scanChannelQr({ customer: { name: '王先生' }, userid: 'zhangsan' });
    const createTime = Math.floor(Date.now() / 1000);
    const event = { ...scan.event, createTime };
    // Arriving together, they share one inbox write with a fourth, distinct event.
    const other = sim.scanChannelQr({ customer: { name: '王先生的同事' }, userid: 'zhangsan' });
    const answers = await Promise.all([event, event, other.event, event].map((e) => sim.sendCallback(callbackUrl, e)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(await wecom.inbox.countDocuments({ 'fields.ExternalUserID': other.contact.externalUserid })).toBe(1);
    await eventually(() => models.Contact.findOne({ externalUserId: scan.contact.externalUserid }).lean(), 'contact');
    await eventually(
      async () => ((await wecom.inbox.countDocuments({ status: 'running' })) + (await wecom.inbox.countDocuments({ status: 'pending' })) === 0 ? true : null),
      'inbox drained',
    );
    const stored = await wecom.inbox.find({ 'fields.ExternalUserID': scan.contact.externalUserid }).lean();
    expect(stored).toHaveLength(1);
    expect(await models.TimelineEvent.countDocuments({ externalUserId: scan.contact.externalUserid, kind: 'added' })).toBe(1);
  });

  it('loses nothing when the process dies between storing and processing', async () => {
    await wecom.worker.stop(); // the "crash": stored events wait in the inbox, unprocessed
    const scan = sim.scanChannelQr({ customer: { name: '赵女士' }, userid: 'zhangsan', state: 'douyin-ad' });
    expect((await sim.sendCallback(callbackUrl, scan.event)).status).toBe(200);
    const item = await wecom.inbox.findOne({ 'fields.ExternalUserID': scan.contact.externalUserid }).lean();
    expect(item).toMatchObject({ status: 'pending' });
    expect(await models.Contact.countDocuments({ externalUserId: scan.contact.externalUserid })).toBe(0);

    wecom.worker.start(); // the restart
    await eventually(() => models.Contact.findOne({ externalUserId: scan.contact.externalUserid }).lean(), 'contact after restart');
    await eventually(() => wecom.inbox.findOne({ _id: item!._id, status: 'done' }).lean(), 'inbox item done');
  });

  it('marks a relation lost and raises a churn alert when the customer deletes the rep', async () => {
    const scan = sim.scanChannelQr({ customer: { name: '钱先生' }, userid: 'zhangsan' });
    await sim.sendCallback(callbackUrl, scan.event);
    const externalUserId = scan.contact.externalUserid;
    await eventually(() => models.FollowRelation.findOne({ externalUserId, status: 'active' }).lean(), 'active relation');
    await sim.sendCallback(callbackUrl, events.delFollowUser({ userid: 'zhangsan', externalUserid: externalUserId }));
    const lost = await eventually(() => models.FollowRelation.findOne({ externalUserId, status: 'lost' }).lean(), 'lost relation');
    expect(lost.removedAt).toBeInstanceOf(Date);
    expect(await models.ChurnAlert.findOne({ externalUserId }).lean()).toMatchObject({ userId: 'zhangsan', status: 'open' });
  });

  it('records tag edits made in WeCom on the relation and the timeline', async () => {
    const scan = sim.scanChannelQr({ customer: { name: '孙女士' }, userid: 'zhangsan' });
    await sim.sendCallback(callbackUrl, scan.event);
    const externalUserId = scan.contact.externalUserid;
    await eventually(() => models.FollowRelation.findOne({ externalUserId }).lean(), 'relation');
    sim.state.markTags('zhangsan', externalUserId, [vipTag], []);
    await sim.sendCallback(callbackUrl, events.editExternalContact({ userid: 'zhangsan', externalUserid: externalUserId }));
    await eventually(() => models.FollowRelation.findOne({ externalUserId, tagIds: vipTag }).lean(), 'VIP tag');
    const change = await eventually(() => models.TimelineEvent.findOne({ externalUserId, kind: 'tags_changed' }).lean(), 'tag timeline');
    expect(change.data).toEqual({ added: [vipTag], removed: [] });
  });

  it('mirrors customer groups and their members joining', async () => {
    const chat = sim.state.addGroupChat({
      name: 'VIP客户群',
      owner: 'zhangsan',
      members: [{ userid: 'zhangsan', type: 1, joinTime: 1_700_000_000, joinScene: 1 }],
    });
    await sim.sendCallback(callbackUrl, events.chatCreate(chat.chatId));
    await eventually(() => models.CustomerGroup.findOne({ chatId: chat.chatId, memberCount: 1 }).lean(), 'group');
    chat.members.push({ userid: 'wmCUSTOMER1', type: 2, joinTime: 1_700_000_100, joinScene: 3 });
    await sim.sendCallback(
      callbackUrl,
      events.chatUpdate({ chatId: chat.chatId, updateDetail: 'add_member', joinScene: 3, memChangeList: ['wmCUSTOMER1'] }),
    );
    await eventually(() => models.CustomerGroup.findOne({ chatId: chat.chatId, memberCount: 2 }).lean(), 'member added');
    expect(await models.TimelineEvent.findOne({ externalUserId: 'wmCUSTOMER1', kind: 'joined_group' }).lean()).toMatchObject({
      data: { chatId: chat.chatId },
    });
    await sim.sendCallback(callbackUrl, events.chatDismiss(chat.chatId));
    await eventually(() => models.CustomerGroup.findOne({ chatId: chat.chatId, status: 'dismissed' }).lean(), 'dismissed');
  });

  it('follows corp tag changes made in WeCom', async () => {
    const group = sim.state.addTags({ groupName: '意向产品', tags: [{ name: '年卡' }] });
    const tagId = group.tags[0]!.id;
    await sim.sendCallback(callbackUrl, events.tagChange('create', { id: tagId, tagType: 'tag' }));
    await eventually(() => models.Tag.findOne({ tagId, name: '年卡', groupName: '意向产品' }).lean(), 'tag mirrored');
    sim.state.deleteTags([tagId], []);
    await sim.sendCallback(callbackUrl, events.tagChange('delete', { id: tagId, tagType: 'tag' }));
    await eventually(async () => ((await models.Tag.countDocuments({ tagId })) === 0 ? true : null), 'tag removed');
  });
});

describe('hostile callbacks are refused and store nothing', () => {
  const inboxSize = () => wecom.inbox.countDocuments({});
  const sealed = () => sealEnvelope(
    { token: sim.corp.token, encodingAesKey: sim.corp.encodingAesKey, corpId: sim.corp.corpId },
    '<xml><Event><![CDATA[change_external_contact]]></Event><CreateTime>1</CreateTime></xml>',
  );

  it('refuses a bad signature with 401', async () => {
    const before = await inboxSize();
    const encrypted = sealed();
    const res = await postRaw(envelope(encrypted), encrypted, { signature: 'a'.repeat(40) });
    expect(res.status).toBe(401);
    expect(await inboxSize()).toBe(before);
  });

  it('refuses missing query parameters, naming them', async () => {
    const res = await fetch(callbackUrl, { method: 'POST', body: '<xml/>' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/msg_signature/);
  });

  it('refuses a DOCTYPE, malformed XML and an envelope without Encrypt', async () => {
    const before = await inboxSize();
    const xxe = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>';
    expect((await postRaw(xxe, '&e;')).status).toBe(400);
    expect((await postRaw('<xml><Encrypt>', 'x')).status).toBe(400);
    expect((await postRaw('<xml><Other>1</Other></xml>', '')).status).toBe(400);
    expect(await inboxSize()).toBe(before);
  });

  it('refuses a payload encrypted for another corp', async () => {
    const before = await inboxSize();
    const foreign = sealEnvelope({ token: sim.corp.token, encodingAesKey: sim.corp.encodingAesKey, corpId: 'wwANOTHER' }, '<xml/>');
    const res = await postRaw(envelope(foreign), foreign);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'wrong_receiver' });
    expect(await inboxSize()).toBe(before);
  });

  it('refuses an oversized body with 413', async () => {
    const huge = 'A'.repeat(100 * 1024);
    const res = await postRaw(envelope(huge), huge);
    expect(res.status).toBe(413);
  });
});
