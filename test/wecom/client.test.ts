import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/observability/index.ts';
import {
  WecomApiError,
  WecomTransportError,
  createWecomClient,
  redactUrl,
  type WecomClientOptions,
} from '../../server/src/wecom/client/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';

/** A clock that only moves when the client sleeps, so backoff and throttling cost no real time. */
function fakeClock() {
  let time = 1_700_000_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => time,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      time += ms;
    },
  };
}

function captureLogs() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

let sim: WecomSimulator;
let customerId: string;

beforeAll(async () => {
  sim = await startWecomSimulator();
  sim.state.addRep({ userid: 'zhangsan', name: '张三' });
  sim.state.addRep({ userid: 'lisi', name: '李四' });
  customerId = sim.state.addContact({ name: '陈静' }, [{ userid: 'zhangsan', remark: '陈静-云帆' }]).externalUserid;
});

afterAll(() => sim.close());

beforeEach(() => {
  sim.clearFaults();
  sim.resetCalls();
});

function client(overrides: Partial<WecomClientOptions> = {}) {
  const clock = fakeClock();
  const wecom = createWecomClient({
    apiBase: sim.apiBase,
    corpId: sim.corp.corpId,
    secret: sim.corp.secret,
    logger: createLogger({ level: 'silent' }),
    now: clock.now,
    sleep: clock.sleep,
    retry: { maxAttempts: 4, baseDelayMs: 100 },
    ...overrides,
  });
  return { wecom, clock };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the call to fail'),
    (err: unknown) => err,
  );
}

describe('access token', () => {
  it('is fetched once for 100 concurrent calls on a cold cache, then reused', async () => {
    const { wecom } = client();
    const results = await Promise.all(Array.from({ length: 100 }, () => wecom.externalContact.get(customerId)));
    expect(results.every((r) => r.external_contact.name === '陈静')).toBe(true);
    await wecom.externalContact.get(customerId);
    expect(sim.calls('/gettoken')).toHaveLength(1);
    expect(sim.calls('/externalcontact/get')).toHaveLength(101);
    expect(sim.calls('/externalcontact/get').every((c) => typeof c.query.access_token === 'string')).toBe(true);
    expect(sim.calls('/gettoken')[0]?.query.access_token).toBeUndefined();
  });

  it('is refreshed before WeCom expires it', async () => {
    const { wecom, clock } = client();
    await wecom.externalContact.get(customerId);
    await clock.sleep(7200 * 1000);
    await wecom.externalContact.get(customerId);
    expect(sim.calls('/gettoken')).toHaveLength(2);
  });

  it.each([40014, 42001])('is refreshed once and the call retried on errcode %i', async (errcode) => {
    const { wecom } = client();
    await wecom.getAccessToken();
    sim.inject({ api: '/externalcontact/get', errcode });
    const result = await wecom.externalContact.get(customerId);
    expect(result.external_contact.external_userid).toBe(customerId);
    expect(sim.calls('/gettoken')).toHaveLength(2);
    expect(sim.calls('/externalcontact/get')).toHaveLength(2);
  });

  it('recovers when the simulator expires every token', async () => {
    const { wecom } = client();
    await wecom.externalContact.get(customerId);
    sim.expireTokens();
    await wecom.externalContact.get(customerId);
    expect(sim.calls('/externalcontact/get').map((c) => c.errcode)).toEqual([0, 42001, 0]);
    expect(sim.calls('/gettoken')).toHaveLength(2);
  });

  it('refreshes only once: a fresh token refused again surfaces the error', async () => {
    const { wecom } = client();
    sim.inject({ api: '/externalcontact/get', errcode: 40014, times: 5 });
    const err = await failure(wecom.externalContact.get(customerId));
    expect(err).toBeInstanceOf(WecomApiError);
    expect((err as WecomApiError).errcode).toBe(40014);
    expect(sim.calls('/gettoken')).toHaveLength(2);
    expect(sim.calls('/externalcontact/get')).toHaveLength(2);
  });

  it('fails on a bad secret without retrying, and never shows the secret', async () => {
    const secret = 'this-is-the-wrong-secret-123';
    const { wecom } = client({ secret });
    const err = await failure(wecom.externalContact.get(customerId));
    expect(err).toBeInstanceOf(WecomApiError);
    expect(err).toMatchObject({ errcode: 40001, api: '/gettoken', retryable: false });
    expect((err as WecomApiError).hint).toContain('secret');
    expect(String((err as Error).message)).not.toContain(secret);
    expect(JSON.stringify(err)).not.toContain(secret);
    expect(sim.calls('/gettoken')).toHaveLength(1);
    expect(sim.calls('/externalcontact/get')).toHaveLength(0);
  });
});

describe('retries', () => {
  it.each([-1, 45009, 45033])('backs off on errcode %i and then succeeds', async (errcode) => {
    const { wecom, clock } = client();
    sim.inject({ api: '/externalcontact/get', errcode, times: 2 });
    const result = await wecom.externalContact.get(customerId);
    expect(result.follow_user[0]?.remark).toBe('陈静-云帆');
    expect(sim.calls('/externalcontact/get')).toHaveLength(3);
    expect(clock.sleeps).toHaveLength(2);
    // Exponential with jitter: attempt n waits between half and all of base * 2^(n-1).
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(100);
    expect(clock.sleeps[1]).toBeGreaterThanOrEqual(100);
    expect(clock.sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('gives up after maxAttempts with a typed, retryable error', async () => {
    const { wecom, clock } = client({ retry: { maxAttempts: 3, baseDelayMs: 100 } });
    sim.inject({ api: '/externalcontact/get', errcode: 45009, times: 10 });
    const err = await failure(wecom.externalContact.get(customerId));
    expect(err).toBeInstanceOf(WecomApiError);
    expect(err).toMatchObject({ errcode: 45009, retryable: true, api: '/externalcontact/get' });
    expect(sim.calls('/externalcontact/get')).toHaveLength(3);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('retries writes on busy codes too (WeCom did not carry them out)', async () => {
    const { wecom } = client();
    sim.inject({ api: '/externalcontact/mark_tag', errcode: 45033 });
    const group = await wecom.tags.add({ group_name: '重试测试', tag: [{ name: '甲' }] });
    await wecom.tags.mark({ userid: 'zhangsan', external_userid: customerId, add_tag: [group.tag[0]!.id] });
    expect(sim.calls('/externalcontact/mark_tag')).toHaveLength(2);
  });

  it('retries reads after a dropped connection or a 5xx', async () => {
    const { wecom } = client();
    sim.inject({ api: '/externalcontact/get', dropConnection: true });
    sim.inject({ api: '/externalcontact/get', httpStatus: 502 });
    await wecom.externalContact.get(customerId);
    expect(sim.calls('/externalcontact/get')).toHaveLength(3);
  });

  it('does not repeat a write whose answer was lost', async () => {
    const { wecom } = client();
    sim.inject({ api: '/externalcontact/add_msg_template', dropConnection: true });
    const err = await failure(
      wecom.massSend.addTemplate({ chat_type: 'single', external_userid: [customerId], sender: 'zhangsan', text: { content: '你好' } }),
    );
    expect(err).toBeInstanceOf(WecomTransportError);
    expect(err).toMatchObject({ retryable: false, status: undefined });
    expect(sim.calls('/externalcontact/add_msg_template')).toHaveLength(1);
  });

  it('gives up on a read that never answers, after the timeout', async () => {
    const { wecom } = client({ timeoutMs: 50, retry: { maxAttempts: 1 } });
    sim.inject({ api: '/externalcontact/list', delayMs: 1_000 });
    const err = await failure(wecom.externalContact.list('zhangsan'));
    expect(err).toBeInstanceOf(WecomTransportError);
    expect((err as Error).message).toContain('timeout');
  });
});

describe('errors that retrying cannot fix', () => {
  it('40096: unknown external_userid surfaces at once with its hint', async () => {
    const { wecom, clock } = client();
    const err = await failure(wecom.externalContact.get('wmUNKNOWN'));
    expect(err).toBeInstanceOf(WecomApiError);
    expect(err).toMatchObject({ errcode: 40096, retryable: false, api: '/externalcontact/get' });
    expect((err as WecomApiError).hint).toContain('external_userid');
    expect(sim.calls('/externalcontact/get')).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(0);
  });

  it('48002: names the admin console setting', async () => {
    const { wecom } = client();
    sim.inject({ api: '/externalcontact/get_follow_user_list', errcode: 48002 });
    const err = (await failure(wecom.user.list())) as WecomApiError;
    expect(err.errcode).toBe(48002);
    expect(err.hint).toContain('可调用接口的应用');
    expect(err.message).toContain(err.hint!);
  });

  it('60020: names the IP WeCom saw', async () => {
    const { wecom } = client();
    sim.inject({ api: '/externalcontact/list', errcode: 60020, errmsg: 'not allow to access from your ip, hint: [x], from ip: 198.51.100.23, more info at ...' });
    const err = (await failure(wecom.externalContact.list('zhangsan'))) as WecomApiError;
    expect(err.hint).toContain('198.51.100.23');
    expect(sim.calls('/externalcontact/list')).toHaveLength(1);
  });

  it('84061: no relation between rep and customer', async () => {
    const { wecom } = client();
    const err = (await failure(wecom.externalContact.remark({ userid: 'lisi', external_userid: customerId, remark: 'x' }))) as WecomApiError;
    expect(err.errcode).toBe(84061);
    expect(err.hint).toContain('relation');
  });
});

describe('secrets', () => {
  it('never appear in logs or error messages', async () => {
    const { lines, logger } = captureLogs();
    const { wecom } = client({ logger });
    const token = await wecom.getAccessToken();
    sim.inject({ api: '/externalcontact/get', errcode: 40014, times: 2, errmsg: `invalid access_token ${token}` });
    const err = (await failure(wecom.externalContact.get(customerId))) as Error;
    sim.inject({ api: '/externalcontact/add_msg_template', httpStatus: 500 });
    const transport = (await failure(wecom.massSend.addTemplate({ chat_type: 'single', external_userid: [customerId], text: { content: 'x' } }))) as Error;
    const freshToken = await wecom.getAccessToken();
    const text = [err.message, transport.message, ...lines].join('\n');
    expect(lines.some((l) => l.includes('"api":"/externalcontact/get"'))).toBe(true);
    for (const secret of [sim.corp.secret, token, freshToken]) expect(text).not.toContain(secret);
  });

  it('redactUrl masks access_token and corpsecret', () => {
    expect(redactUrl('https://q/cgi-bin/gettoken?corpid=ww1&corpsecret=abc&x=1')).toBe(
      'https://q/cgi-bin/gettoken?corpid=ww1&corpsecret=[redacted]&x=1',
    );
    expect(redactUrl('https://q/cgi-bin/user/get?access_token=T0K&userid=a')).toBe('https://q/cgi-bin/user/get?access_token=[redacted]&userid=a');
  });
});

describe('rate limit', () => {
  it('queues calls beyond the budget instead of failing them', async () => {
    const { wecom, clock } = client({ rateLimitPerMinute: 3 });
    await wecom.getAccessToken();
    const results = await Promise.all(Array.from({ length: 7 }, () => wecom.externalContact.list('zhangsan')));
    expect(results.every((ids) => ids.includes(customerId))).toBe(true);
    expect(sim.calls('/externalcontact/list')).toHaveLength(7);
    // 3 go at once; the other 4 each wait for a token (20 s apiece at 3/minute) on the fake clock.
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4 * 20_000);
    expect(sim.calls('/externalcontact/list').every((c) => c.errcode === 0)).toBe(true);
  });

  it('keeps one budget per API, as WeCom counts', async () => {
    const { wecom, clock } = client({ rateLimitPerMinute: 2 });
    await wecom.getAccessToken();
    await Promise.all([wecom.externalContact.list('zhangsan'), wecom.externalContact.list('zhangsan')]);
    await Promise.all([wecom.tags.list(), wecom.tags.list()]);
    // Two calls to each of two APIs fit their own budgets: nobody waited.
    expect(clock.sleeps).toEqual([]);
    await wecom.externalContact.list('zhangsan');
    expect(clock.sleeps.length).toBeGreaterThan(0);
  });
});

describe('endpoints', () => {
  it('report each exchange to onCall', async () => {
    const seen: string[] = [];
    const { wecom } = client({ onCall: (api, outcome, errcode) => seen.push(`${api} ${outcome} ${errcode}`) });
    sim.inject({ api: '/externalcontact/get', errcode: 45009 });
    await wecom.externalContact.get(customerId);
    await failure(wecom.externalContact.get('wmUNKNOWN'));
    expect(seen).toEqual([
      '/gettoken ok 0',
      '/externalcontact/get error 45009',
      '/externalcontact/get ok 0',
      '/externalcontact/get error 40096',
    ]);
  });

  it('page through batch/get_by_user and groupchat/list', async () => {
    const { wecom } = client();
    for (let i = 0; i < 230; i++) sim.state.addContact({ name: `客户${i}` }, [{ userid: 'lisi' }]);
    for (let i = 0; i < 5; i++) sim.state.addGroupChat({ name: `群${i}`, owner: 'lisi', members: [] });
    const pairs = [];
    for await (const pair of wecom.externalContact.iterateByUser({ userid_list: ['lisi'], limit: 100 })) pairs.push(pair);
    expect(pairs).toHaveLength(230);
    expect(new Set(pairs.map((p) => p.external_contact.external_userid)).size).toBe(230);
    expect(pairs.every((p) => p.follow_info.userid === 'lisi')).toBe(true);
    expect(sim.calls('/externalcontact/batch/get_by_user')).toHaveLength(3);

    const chats = [];
    for await (const chat of wecom.groupChat.iterate({ owner_filter: { userid_list: ['lisi'] }, limit: 2 })) chats.push(chat);
    expect(chats).toHaveLength(5);
    expect(sim.calls('/externalcontact/groupchat/list')).toHaveLength(3);
  });

  it('cache JS-SDK tickets and resolve OAuth codes', async () => {
    const { wecom } = client();
    const corpTicket = await wecom.jsapi.getCorpTicket();
    expect(await wecom.jsapi.getCorpTicket()).toBe(corpTicket);
    const agentTicket = await wecom.jsapi.getAgentTicket();
    expect(await wecom.jsapi.getAgentTicket()).toBe(agentTicket);
    expect(sim.calls('/get_jsapi_ticket')).toHaveLength(1);
    expect(sim.calls('/ticket/get')).toHaveLength(1);
    expect(sim.calls('/ticket/get')[0]?.query.type).toBe('agent_config');

    const code = sim.state.issueOAuthCode('zhangsan');
    expect(await wecom.auth.getUserInfo(code)).toEqual({ userid: 'zhangsan', openid: undefined });
    expect(((await failure(wecom.auth.getUserInfo(code))) as WecomApiError).errcode).toBe(40029);
  });

  it('create a channel QR, a mass-send task and read its results', async () => {
    const { wecom } = client();
    const way = await wecom.contactWay.add({ type: 1, scene: 2, state: 'douyin_618', user: ['zhangsan'], skip_verify: true });
    expect(way.config_id).toBeTruthy();
    expect(way.qr_code).toMatch(/^https:/);
    expect(sim.calls('/externalcontact/add_contact_way')[0]?.body).toMatchObject({ state: 'douyin_618' });

    const { msgid, fail_list } = await wecom.massSend.addTemplate({
      chat_type: 'single',
      external_userid: [customerId, 'wmNOBODY'],
      sender: 'zhangsan',
      text: { content: '618 活动开始啦' },
    });
    expect(fail_list).toEqual(['wmNOBODY']);
    expect((await wecom.massSend.getTask({ msgid })).task_list).toEqual([{ userid: 'zhangsan', status: 0 }]);
    sim.state.confirmMassSend(msgid, 'zhangsan');
    const results = await wecom.massSend.getSendResult({ msgid, userid: 'zhangsan' });
    expect(results.send_list).toMatchObject([{ external_userid: customerId, userid: 'zhangsan', status: 1 }]);
    const list = await wecom.massSend.getGroupMsgListV2({ chat_type: 'single', start_time: 0, end_time: 2 ** 31 });
    expect(list.group_msg_list.map((m) => m.msgid)).toContain(msgid);
    expect(typeof list.group_msg_list[0]?.create_time).toBe('number');
  });

  it('send a welcome message with the code from the event', async () => {
    const { wecom } = client();
    const scan = sim.scanChannelQr({ customer: { name: '黄婷' }, userid: 'zhangsan', state: 'expo' });
    await wecom.welcome.send({ welcome_code: scan.welcomeCode!, text: { content: '欢迎！' } });
    const err = (await failure(wecom.welcome.send({ welcome_code: scan.welcomeCode!, text: { content: '欢迎！' } }))) as WecomApiError;
    expect(err.errcode).toBe(41050);
    expect(err.hint).toContain('20 s');
  });

  it('read and manage corp tags and a follow user', async () => {
    const { wecom } = client();
    const group = await wecom.tags.add({ group_name: '客户等级', tag: [{ name: 'A类' }, { name: 'B类' }] });
    const [a, b] = group.tag;
    await wecom.tags.mark({ userid: 'zhangsan', external_userid: customerId, add_tag: [a!.id, b!.id] });
    await wecom.tags.mark({ userid: 'zhangsan', external_userid: customerId, remove_tag: [b!.id] });
    const detail = await wecom.externalContact.get(customerId);
    expect(detail.follow_user[0]?.tags).toContainEqual({ group_name: '客户等级', tag_name: 'A类', type: 1, tag_id: a!.id });
    expect(detail.follow_user[0]?.tags.some((t) => t.tag_id === b!.id)).toBe(false);
    await wecom.tags.edit({ id: a!.id, name: 'A类-高意向' });
    await wecom.tags.del({ tag_id: [b!.id] });
    const groups = await wecom.tags.list({ group_id: [group.group_id] });
    expect(groups[0]?.tag.map((t) => t.name)).toEqual(['A类-高意向']);
    expect(await wecom.user.list()).toEqual(expect.arrayContaining(['zhangsan', 'lisi']));
    expect(await wecom.user.get('zhangsan')).toMatchObject({ userid: 'zhangsan', name: '张三' });
  });
});
