import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Sessions, requireAdmin, type HttpModule } from '../../server/src/http/index.ts';
import { sopAuthoringModule } from '../../server/src/sop/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';
import { PNG_1PX } from '../support/images.ts';
import { SOP_ADMIN_TOKEN, TestClock, buildSop, planFromYaml, type SopHarness } from './harness.ts';

// Monday 2026-11-23 10:00 in Asia/Shanghai.
const MONDAY_10 = '2026-11-23T02:00:00Z';

let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let clock: TestClock;
let h: SopHarness;
let served: ServedModules;
let demoReps: string[];

beforeAll(async () => {
  store = await openTestStore();
  clock = new TestClock(new Date(MONDAY_10).getTime());
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  demoReps = [...sim.state.reps.keys()];
  h = await buildSop(store.connection, sim, clock, { media: true, testSend: { agentId: sim.corp.agentId, demoReps } });
  served = await serveModules([h.sop.authoring, h.media!.http]);
});
afterAll(async () => {
  await h?.sop.engine.stop();
  await served?.close();
  await sim?.close();
  await store?.dispose();
});
beforeEach(async () => {
  clock.set(MONDAY_10);
  sim.resetCalls();
  sim.clearFaults();
  await Promise.all([h.sop.models.Plan.deleteMany({ builtIn: false }), h.sop.models.Job.deleteMany({}), h.sop.models.Enrollment.deleteMany({}), h.sop.models.Send.deleteMany({})]);
});
afterEach(() => h.sop.engine.stop());

async function call<T = Record<string, unknown>>(path: string, body: unknown, base = served.base): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SOP_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** An operator image, stored and addressed by its public URL as the editor would insert it. */
async function operatorImage(): Promise<string> {
  const res = await fetch(`${served.base}/api/admin/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SOP_ADMIN_TOKEN}`, 'content-type': 'image/png' },
    body: Uint8Array.from(PNG_1PX),
  });
  return ((await res.json()) as { url: string }).url;
}

const chen = async () => {
  const contact = (await h.contacts.Contact.findOne({ name: '陈静' }).lean())!;
  const relation = (await h.contacts.FollowRelation.findOne({ externalUserId: contact.externalUserId }).lean())!;
  return { contact, relation };
};

describe('attachments at send time', () => {
  const plan = (id: string, attachments: string) => `
id: ${id}
name: 附件测试
trigger: { type: contact_tagged, tag: A类-高意向 }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: push
    type: mass_send
    content:
      text: "{{name}}，新品资料请查收"
      attachments: ${attachments}
`;
  async function enrolChen() {
    const { contact, relation } = await chen();
    await h.sop.engine.onContactTagged({ externalUserId: contact.externalUserId, userId: relation.userId, tagIds: relation.tagIds, at: clock.now() });
    await h.sop.engine.worker.drain();
    return (await h.sop.models.Job.find({ targetId: contact.externalUserId }).lean())[0]!;
  }

  it('uploads the image and the mini-program cover once each and sends their media ids in add_msg_template', async () => {
    const image = await operatorImage();
    const cover = await operatorImage();
    await planFromYaml(
      h.sop,
      plan('with-media', `[{ type: image, url: "${image}" }, { type: miniprogram, title: 会员中心, appId: wx1234, page: pages/vip, picUrl: "${cover}" }, { type: miniprogram, title: 无封面, appId: wx1234, page: pages/x }]`),
    );
    const job = await enrolChen();
    const [send] = sim.calls('/externalcontact/add_msg_template');
    const uploads = sim.calls('/media/upload').filter((c) => c.errcode === 0);
    expect(uploads).toHaveLength(2);
    const body = send!.body as { attachments: Array<Record<string, { media_id?: string; pic_media_id?: string }>> };
    expect(send!.errcode).toBe(0);
    expect(body.attachments).toEqual([
      { msgtype: 'image', image: { media_id: expect.any(String) } },
      { msgtype: 'miniprogram', miniprogram: { title: '会员中心', appid: 'wx1234', page: 'pages/vip', pic_media_id: expect.any(String) } },
    ]);
    expect(body.attachments[0]!.image!.media_id).not.toBe(body.attachments[1]!.miniprogram!.pic_media_id);
    // The mini-program without a cover cannot go out: the rest is sent and the outcome says what was left out.
    expect(job).toMatchObject({ outcome: 'sent', detail: { skippedAttachments: [expect.stringMatching(/无封面.*no picUrl/)] } });
  });

  it('records a media upload WeCom refuses as a failed send, not a retry storm', async () => {
    const image = await operatorImage();
    await planFromYaml(h.sop, plan('bad-media', `[{ type: image, url: "${image}" }]`));
    sim.inject({ api: '/media/upload', errcode: 40004 });
    const job = await enrolChen();
    expect(job).toMatchObject({ status: 'done', outcome: 'failed', attempts: 1, detail: { error: expect.stringMatching(/40004/) } });
    expect(sim.calls('/externalcontact/add_msg_template')).toHaveLength(0);
  });
});

describe('POST /api/admin/sop/preview', () => {
  it('renders {{name}} and the other variables for the chosen customer with the engine’s renderer', async () => {
    const { contact, relation } = await chen();
    const res = await call<{ text: string; missing: string[] }>('/api/admin/sop/preview', {
      content: { text: '{{name}}您好，我是{{rep}}。{{company}} {{group}} {{date}}' },
      externalUserId: contact.externalUserId,
    });
    expect(res.status).toBe(200);
    expect(relation.userId).toBe('zhangwei');
    // The customer's own name: the rep's remark (备注名) never reaches a customer.
    expect(relation.remark).not.toBe(contact.name);
    expect(res.body).toEqual({ text: `${contact.name}您好，我是张伟。杭州云帆科技有限公司  2026-11-23`, missing: ['group'] });
  });

  it('renders {{group}} for a group and lists every variable it cannot fill without a customer', async () => {
    const group = (await h.contacts.CustomerGroup.findOne({ name: '美妆行业私域增长群' }).lean())!;
    const asGroup = await call<{ text: string }>('/api/admin/sop/preview', { content: { text: '{{group}}的朋友们好' }, target: 'group', chatId: group.chatId });
    expect(asGroup.body.text).toBe('美妆行业私域增长群的朋友们好');
    const nobody = await call<{ text: string; missing: string[] }>('/api/admin/sop/preview', { content: { text: '{{name}}您好' } });
    expect(nobody.body).toEqual({ text: '您好', missing: ['name'] });
  });

  it('answers 400 for bad content and a group without chatId, 404 for an unknown customer', async () => {
    const bad = await call<{ error: string; message: string }>('/api/admin/sop/preview', { content: { text: '' } });
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_request', message: expect.stringMatching(/content\.text/) } });
    expect((await call('/api/admin/sop/preview', { content: { text: 'x' }, target: 'group' })).status).toBe(400);
    const unknown = await call<{ message: string }>('/api/admin/sop/preview', { content: { text: 'x' }, externalUserId: 'wm-nobody' });
    expect(unknown).toMatchObject({ status: 404, body: { message: expect.stringMatching(/externalUserId/) } });
  });
});

describe('POST /api/admin/sop/test-send', () => {
  it('delivers the rendered text, then each attachment, to the first demo rep for an admin-token caller', async () => {
    const { contact, relation } = await chen();
    const image = await operatorImage();
    const before = sim.appMessages(demoReps[0]!).length;
    const res = await call<{ sentTo: string; msgids: string[]; text: string }>('/api/admin/sop/test-send', {
      content: { text: '{{name}}您好', attachments: [{ type: 'image', url: image }, { type: 'link', title: '新品', url: 'https://example.com/new', desc: '看看' }] },
      externalUserId: contact.externalUserId,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sentTo: demoReps[0], text: `${contact.name}您好`, msgids: [expect.any(String), expect.any(String), expect.any(String)] });
    const arrived = sim.appMessages(demoReps[0]!).slice(before);
    expect(arrived.map((m) => m.msgtype)).toEqual(['text', 'image', 'news']);
    expect(arrived[0]!.text).toEqual({ content: `${contact.name}您好` });
    expect(arrived[2]!.news!.articles[0]).toMatchObject({ title: '新品', url: 'https://example.com/new', description: '看看' });
    expect(arrived.map((m) => m.msgid)).toEqual(res.body.msgids);
  });

  it('sends to the userId given, and answers 400 naming userId when WeCom knows no such member', async () => {
    const res = await call<{ sentTo: string }>('/api/admin/sop/test-send', { content: { text: '给李娜' }, userId: 'lina' });
    expect(res.body.sentTo).toBe('lina');
    expect(sim.appMessages('lina').at(-1)!.text).toEqual({ content: '给李娜' });
    const unknown = await call<{ message: string }>('/api/admin/sop/test-send', { content: { text: 'x' }, userId: 'nobody' });
    expect(unknown).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^userId: .*nobody/) } });
  });

  it('answers 502 with WeCom’s reason when WeCom fails', async () => {
    sim.inject({ api: '/message/send', errcode: -1 });
    const res = await call<{ error: string; message: string }>('/api/admin/sop/test-send', { content: { text: 'x' }, userId: 'lina' });
    expect(res).toMatchObject({ status: 502, body: { error: 'wecom_error', message: expect.stringMatching(/errcode -1/) } });
  });
});

describe('test-send recipient outside demo mode', () => {
  /** The module with sessions, as main.ts guards it, and a stand-in for the WeCom sign-in that sets the admin session. */
  async function serveWithSessions() {
    const sessions = new Sessions({ ttlMs: 60_000 });
    const signIn: HttpModule = {
      name: 'test-sign-in',
      mount: (router) =>
        router.post('/test/sign-in/:userId', (ctx) => {
          sessions.start(ctx, 'admin', ctx.params.userId!);
          ctx.status = 204;
        }),
    };
    const authoring = sopAuthoringModule({
      runner: h.sop.engine.runner,
      contacts: h.contacts,
      client: h.client,
      media: h.media!.cache,
      agentId: sim.corp.agentId,
      demoReps: null,
      adminGuard: requireAdmin(SOP_ADMIN_TOKEN, sessions),
      timeZone: 'Asia/Shanghai',
      now: clock.now,
    });
    return serveModules([signIn, authoring], { cookieKeys: ['test-cookie-key-0123456789abcdef'] });
  }

  it('defaults to the signed-in admin’s WeCom userid, and without one asks for userId', async () => {
    const app = await serveWithSessions();
    try {
      const tokenOnly = await call<{ message: string }>('/api/admin/sop/test-send', { content: { text: 'x' } }, app.base);
      expect(tokenOnly).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^userId: required/) } });
      const signIn = await fetch(`${app.base}/test/sign-in/wangfang`, { method: 'POST' });
      const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const res = await fetch(`${app.base}/api/admin/sop/test-send`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ content: { text: '给自己' } }),
      });
      expect(await res.json()).toMatchObject({ sentTo: 'wangfang' });
      expect(sim.appMessages('wangfang').at(-1)!.text).toEqual({ content: '给自己' });
    } finally {
      await app.close();
    }
  });
});
