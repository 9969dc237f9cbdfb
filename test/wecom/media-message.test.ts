import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/observability/index.ts';
import { WecomApiError, createWecomClient, type WecomClient } from '../../server/src/wecom/client/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { GIF_1PX, PNG_1PX } from '../support/images.ts';
import { accessToken, manualClock } from '../wecom-simulator/helpers.ts';

const DAY = 86_400_000;
const clock = manualClock();
let sim: WecomSimulator;
let wecom: WecomClient;
let agentid: number;
const logLines: string[] = [];

beforeAll(async () => {
  sim = await startWecomSimulator({ now: clock.now });
  sim.state.addRep({ userid: 'zhangsan', name: '张三' });
  sim.state.addRep({ userid: 'lisi', name: '李四' });
  agentid = sim.corp.agentId;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  wecom = createWecomClient({
    apiBase: sim.apiBase,
    corpId: sim.corp.corpId,
    secret: sim.corp.secret,
    logger: createLogger({ level: 'debug', destination }),
    sleep: async () => {},
    retry: { maxAttempts: 3, baseDelayMs: 1 },
  });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.clearFaults();
  sim.resetCalls();
});

const png = { type: 'image' as const, bytes: PNG_1PX, filename: 'cover.png', contentType: 'image/png' };
const errcodeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected a WeCom error'),
    (err: unknown) => {
      expect(err).toBeInstanceOf(WecomApiError);
      return err as WecomApiError;
    },
  );

/** A multipart upload as any qyapi client would send it, for what the typed client cannot express. */
async function rawUpload(type: string, parts: FormData) {
  const url = `${sim.apiBase}/media/upload?access_token=${await accessToken(sim)}&type=${type}`;
  return (await (await fetch(url, { method: 'POST', body: parts })).json()) as { errcode: number };
}

describe('media/upload', () => {
  it('uploads an image as multipart and answers a media_id with created_at; the call log keeps no bytes', async () => {
    const uploaded = await wecom.media.upload(png);
    expect(uploaded).toEqual({ type: 'image', media_id: expect.any(String), created_at: Math.floor(clock.now() / 1000) });
    const [call] = sim.calls('/media/upload');
    expect(call).toMatchObject({ method: 'POST', query: { type: 'image' }, body: { media: { filename: 'cover.png', contentType: 'image/png', size: PNG_1PX.length } }, errcode: 0 });
    expect(logLines.join('')).not.toContain(call!.query.access_token);
  });

  it('refuses non-JPG/PNG image bytes with 40004 whatever the declared type, with a hint', async () => {
    const err = await errcodeOf(wecom.media.upload({ ...png, bytes: GIF_1PX }));
    expect(err.errcode).toBe(40004);
    expect(err.hint).toMatch(/JPG or PNG/);
    expect(err.retryable).toBe(false);
  });

  it('refuses an image under 6 bytes with 40009 and a file under 6 bytes with 40006', async () => {
    expect((await errcodeOf(wecom.media.upload({ ...png, bytes: Buffer.from('abc') }))).errcode).toBe(40009);
    expect((await errcodeOf(wecom.media.upload({ type: 'file', bytes: Buffer.from('abc'), filename: 'a.txt', contentType: 'text/plain' }))).errcode).toBe(40006);
    expect((await wecom.media.upload({ type: 'file', bytes: Buffer.from('a longer file'), filename: 'a.txt', contentType: 'text/plain' })).type).toBe('file');
  });

  it('refuses an unknown type with 40005 and a body without the media part with 44001', async () => {
    const form = new FormData();
    form.set('media', new Blob([Uint8Array.from(PNG_1PX)], { type: 'image/png' }), 'a.png');
    expect((await rawUpload('picture', form)).errcode).toBe(40005);
    const other = new FormData();
    other.set('file', new Blob([Uint8Array.from(PNG_1PX)]), 'a.png');
    expect((await rawUpload('image', other)).errcode).toBe(44001);
  });

  it('rides out 45009 and a dropped answer (a repeated upload is harmless), and refreshes a stale token', async () => {
    sim.inject({ api: '/media/upload', errcode: 45009 });
    sim.inject({ api: '/media/upload', dropConnection: true });
    expect((await wecom.media.upload(png)).media_id).toBeTruthy();
    expect(sim.calls('/media/upload').map((c) => c.errcode)).toEqual([45009, undefined, 0]);
    sim.expireTokens();
    sim.inject({ api: '/media/upload', errcode: 40014 });
    expect((await wecom.media.upload(png)).media_id).toBeTruthy();
  });
});

describe('message/send', () => {
  it('delivers text, an uploaded image and a news card to the member, visible in the simulator and over HTTP', async () => {
    const before = sim.appMessages('zhangsan').length;
    const { media_id } = await wecom.media.upload(png);
    const text = await wecom.message.send({ touser: ['zhangsan'], agentid, msgtype: 'text', text: { content: '测试：您好' } });
    await wecom.message.send({ touser: ['zhangsan'], agentid, msgtype: 'image', image: { media_id } });
    await wecom.message.send({ touser: ['zhangsan'], agentid, msgtype: 'news', news: { articles: [{ title: '新品', url: 'https://example.com/p', description: '看看' }] } });
    expect(text).toEqual({ msgid: expect.any(String), invalidUsers: [] });
    const received = sim.appMessages('zhangsan').slice(before);
    expect(received.map((m) => m.msgtype)).toEqual(['text', 'image', 'news']);
    expect(received[0]).toMatchObject({ msgid: text.msgid, agentid, text: { content: '测试：您好' } });
    const overHttp = (await (await fetch(`${sim.appMessagesUrl}?userid=zhangsan`)).json()) as { messages: unknown[] };
    expect(overHttp.messages.slice(before)).toEqual(JSON.parse(JSON.stringify(received)));
    expect(sim.appMessages('lisi')).toEqual([]);
    expect(sim.calls('/message/send')[0]!.body).toMatchObject({ touser: 'zhangsan', msgtype: 'text', agentid });
  });

  it('names the recipients it could not reach (lowercased) and refuses when none is valid with 81013', async () => {
    const partial = await wecom.message.send({ touser: ['lisi', 'Nobody'], agentid, msgtype: 'text', text: { content: 'hi' } });
    expect(partial.invalidUsers).toEqual(['nobody']);
    const err = await errcodeOf(wecom.message.send({ touser: ['nobody'], agentid, msgtype: 'text', text: { content: 'hi' } }));
    expect(err.errcode).toBe(81013);
    expect(err.hint).toMatch(/visible range/);
  });

  it('refuses an unknown media_id and one past its 3 days with 40007, a wrong agentid with 40056', async () => {
    expect((await errcodeOf(wecom.message.send({ touser: ['zhangsan'], agentid, msgtype: 'image', image: { media_id: 'nope' } }))).errcode).toBe(40007);
    const { media_id } = await wecom.media.upload(png);
    clock.advance(3 * DAY - 1000);
    await wecom.message.send({ touser: ['zhangsan'], agentid, msgtype: 'image', image: { media_id } });
    clock.advance(1000);
    const expired = await errcodeOf(wecom.message.send({ touser: ['zhangsan'], agentid, msgtype: 'image', image: { media_id } }));
    expect(expired.errcode).toBe(40007);
    expect(expired.hint).toMatch(/upload it again/);
    expect((await errcodeOf(wecom.message.send({ touser: ['zhangsan'], agentid: agentid + 1, msgtype: 'text', text: { content: 'x' } }))).errcode).toBe(40056);
  });

  it('is not repeated on -1 (it may have been delivered) but is on 45009, and refreshes on 42001', async () => {
    sim.inject({ api: '/message/send', errcode: -1 });
    expect((await errcodeOf(wecom.message.send({ touser: ['lisi'], agentid, msgtype: 'text', text: { content: 'a' } }))).errcode).toBe(-1);
    expect(sim.calls('/message/send')).toHaveLength(1);
    sim.resetCalls();
    sim.inject({ api: '/message/send', errcode: 45009 });
    sim.inject({ api: '/message/send', errcode: 42001 });
    await wecom.message.send({ touser: ['lisi'], agentid, msgtype: 'text', text: { content: 'b' } });
    expect(sim.calls('/message/send').map((c) => c.errcode)).toEqual([45009, 42001, 0]);
  });

  it('cuts an over-long text at 2048 bytes as WeCom does, without breaking a character', async () => {
    await wecom.message.send({ touser: ['lisi'], agentid, msgtype: 'text', text: { content: '好'.repeat(1000) } });
    const content = sim.appMessages('lisi').at(-1)!.text!.content;
    expect(content).toBe('好'.repeat(682)); // 3 bytes each: 682 × 3 = 2046 ≤ 2048
  });

  it('maps an unsupported msgtype to 40008 in the simulator', async () => {
    const url = `${sim.apiBase}/message/send?access_token=${await accessToken(sim)}`;
    const body = JSON.stringify({ touser: 'zhangsan', agentid, msgtype: 'voice', voice: { media_id: 'x' } });
    const answer = (await (await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).json()) as { errcode: number };
    expect(answer.errcode).toBe(40008);
  });
});

describe('attachments of customer messages', () => {
  it('must carry live media: a mini-program needs pic_media_id, an unknown media_id is 40007', async () => {
    const { media_id } = await wecom.media.upload(png);
    const customer = sim.state.addContact({ name: '陈静' }, [{ userid: 'zhangsan' }]).externalUserid;
    const base = { chat_type: 'single' as const, external_userid: [customer], sender: 'zhangsan', text: { content: 'hi' } };
    const ok = await wecom.massSend.addTemplate({
      ...base,
      attachments: [
        { msgtype: 'image', image: { media_id } },
        { msgtype: 'miniprogram', miniprogram: { title: '小程序', appid: 'wx123', page: 'pages/index', pic_media_id: media_id } },
      ],
    });
    expect(ok.msgid).toBeTruthy();
    const missing = await errcodeOf(
      // Deliberately ill-typed: the client's type demands pic_media_id, the simulator must refuse its absence too.
      wecom.massSend.addTemplate({ ...base, attachments: [{ msgtype: 'miniprogram', miniprogram: { title: 't', appid: 'wx', page: 'p' } as never }] }),
    );
    expect(missing.errcode).toBe(41006);
    expect((await errcodeOf(wecom.massSend.addTemplate({ ...base, attachments: [{ msgtype: 'image', image: { media_id: 'gone' } }] }))).errcode).toBe(40007);
  });
});
