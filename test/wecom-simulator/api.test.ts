import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { accessToken, callApi, manualClock, type Answer } from './helpers.ts';

const clock = manualClock();
let sim: WecomSimulator;
let token: string;
let customer: string;
let tagA: string;
let tagB: string;

beforeAll(async () => {
  sim = await startWecomSimulator({ now: clock.now });
  sim.state.addRep({ userid: 'zhangsan', name: '张三' });
  sim.state.addRep({ userid: 'lisi', name: '李四' });
  const group = sim.state.addTags({ groupName: '客户等级', tags: [{ name: 'A类' }, { name: 'B类' }] });
  [tagA, tagB] = group.tags.map((t) => t.id) as [string, string];
  customer = sim.state.addContact({ name: '陈静', corpName: '云帆科技' }, [{ userid: 'zhangsan', state: 'expo', tagIds: [tagA] }]).externalUserid;
  token = await accessToken(sim);
});

afterAll(() => sim.close());

beforeEach(() => {
  sim.clearFaults();
  sim.resetCalls();
});

const api = (path: string, options: { query?: Record<string, string>; body?: unknown } = {}): Promise<Answer> =>
  callApi(sim, path, { ...options, token });

describe('access tokens', () => {
  it('refuses a missing or unknown token with 40014 and an expired one with 42001', async () => {
    expect((await callApi(sim, '/externalcontact/get', { query: { external_userid: customer }, token: null })).errcode).toBe(40014);
    expect((await callApi(sim, '/externalcontact/get', { query: { external_userid: customer }, token: 'bogus' })).errcode).toBe(40014);
    const doomed = await accessToken(sim);
    sim.expireTokens();
    expect((await callApi(sim, '/externalcontact/get', { query: { external_userid: customer }, token: doomed })).errcode).toBe(42001);
    token = await accessToken(sim);
    clock.advance(7200 * 1000);
    expect((await api('/externalcontact/get', { query: { external_userid: customer } })).errcode).toBe(42001);
    token = await accessToken(sim);
  });

  it('refuses a wrong secret (40001) or corp id (40013)', async () => {
    expect((await callApi(sim, '/gettoken', { query: { corpid: sim.corp.corpId, corpsecret: 'nope' }, token: null })).errcode).toBe(40001);
    expect((await callApi(sim, '/gettoken', { query: { corpid: 'wwother', corpsecret: sim.corp.secret }, token: null })).errcode).toBe(40013);
  });
});

describe('external contacts', () => {
  it('answers externalcontact/get like WeCom, tags expanded', async () => {
    const answer = await api('/externalcontact/get', { query: { external_userid: customer } });
    expect(answer).toMatchObject({
      errcode: 0,
      errmsg: 'ok',
      external_contact: { external_userid: customer, name: '陈静', type: 1, corp_name: '云帆科技' },
      follow_user: [{ userid: 'zhangsan', state: 'expo', add_way: 1, tags: [{ group_name: '客户等级', tag_name: 'A类', type: 1, tag_id: tagA }] }],
    });
  });

  it('answers 40096 for an unknown external_userid', async () => {
    expect((await api('/externalcontact/get', { query: { external_userid: 'wmNOPE' } })).errcode).toBe(40096);
  });

  it('pages batch/get_by_user with next_cursor and refuses limit > 100', async () => {
    for (let i = 0; i < 120; i++) sim.state.addContact({ name: `批量${i}` }, [{ userid: 'lisi' }]);
    expect((await api('/externalcontact/batch/get_by_user', { body: { userid_list: ['lisi'], limit: 101 } })).errcode).toBe(40058);
    const first = await api('/externalcontact/batch/get_by_user', { body: { userid_list: ['lisi'], limit: 100 } });
    expect(first.external_contact_list).toHaveLength(100);
    expect(first.next_cursor).toBeTruthy();
    const second = await api('/externalcontact/batch/get_by_user', { body: { userid_list: ['lisi'], limit: 100, cursor: first.next_cursor } });
    expect(second.external_contact_list).toHaveLength(20);
    expect(second.next_cursor).toBe('');
    expect((second.external_contact_list as Array<{ follow_info: unknown }>)[0]?.follow_info).toMatchObject({ userid: 'lisi', tag_id: [] });
  });

  it('updates remarks and refuses reps without a relation (84061)', async () => {
    expect((await api('/externalcontact/remark', { body: { userid: 'zhangsan', external_userid: customer, remark: '陈总' } })).errcode).toBe(0);
    expect(sim.state.requireFollow(customer, 'zhangsan').remark).toBe('陈总');
    expect((await api('/externalcontact/remark', { body: { userid: 'lisi', external_userid: customer, remark: 'x' } })).errcode).toBe(84061);
  });

  it('lists a rep customers and the follow users', async () => {
    expect((await api('/externalcontact/list', { query: { userid: 'zhangsan' } })).external_userid).toContain(customer);
    expect((await api('/externalcontact/get_follow_user_list')).follow_user).toEqual(['zhangsan', 'lisi']);
  });
});

describe('tags', () => {
  it('mark_tag really changes the follow user tags', async () => {
    const answer = await api('/externalcontact/mark_tag', {
      body: { userid: 'zhangsan', external_userid: customer, add_tag: [tagB], remove_tag: [tagA] },
    });
    expect(answer.errcode).toBe(0);
    expect(sim.state.requireFollow(customer, 'zhangsan').tagIds).toEqual([tagB]);
    expect(sim.calls('/externalcontact/mark_tag')[0]?.body).toEqual({
      userid: 'zhangsan',
      external_userid: customer,
      add_tag: [tagB],
      remove_tag: [tagA],
    });
  });

  it('mark_tag refuses unknown tag ids with 40068 and changes nothing', async () => {
    const before = [...sim.state.requireFollow(customer, 'zhangsan').tagIds];
    const answer = await api('/externalcontact/mark_tag', { body: { userid: 'zhangsan', external_userid: customer, add_tag: [tagA, 'etNOPE'] } });
    expect(answer.errcode).toBe(40068);
    expect(sim.state.requireFollow(customer, 'zhangsan').tagIds).toEqual(before);
  });

  it('adds, edits, lists and deletes corp tags', async () => {
    const added = await api('/externalcontact/add_corp_tag', { body: { group_name: '意向产品', tag: [{ name: '企业版' }, { name: '专业版' }] } });
    const group = added.tag_group as { group_id: string; tag: Array<{ id: string; name: string }> };
    expect(group.tag.map((t) => t.name)).toEqual(['企业版', '专业版']);
    expect((await api('/externalcontact/add_corp_tag', { body: { group_id: group.group_id, tag: [{ name: '企业版' }] } })).errcode).toBe(40071);

    const enterprise = group.tag[0]!;
    const pro = group.tag[1]!;
    expect((await api('/externalcontact/edit_corp_tag', { body: { id: pro.id, name: '专业版 Pro' } })).errcode).toBe(0);
    expect((await api('/externalcontact/edit_corp_tag', { body: { id: 'etNOPE', name: 'x' } })).errcode).toBe(40068);
    const byTag = await api('/externalcontact/get_corp_tag_list', { body: { tag_id: [pro.id] } });
    expect(byTag.tag_group).toMatchObject([{ group_name: '意向产品', tag: [{ id: pro.id, name: '专业版 Pro' }] }]);

    await api('/externalcontact/mark_tag', { body: { userid: 'zhangsan', external_userid: customer, add_tag: [enterprise.id] } });
    expect((await api('/externalcontact/del_corp_tag', { body: { tag_id: [enterprise.id, pro.id] } })).errcode).toBe(0);
    // Deleting its last tag removes the group, and the tag from every customer.
    const all = (await api('/externalcontact/get_corp_tag_list', { body: {} })).tag_group as Array<{ group_name: string }>;
    expect(all.map((g) => g.group_name)).toEqual(['客户等级']);
    expect(sim.state.requireFollow(customer, 'zhangsan').tagIds).not.toContain(enterprise.id);
  });

  it('refuses a rename onto a sibling tag or another group with 40071, and changes nothing', async () => {
    const added = await api('/externalcontact/add_corp_tag', { body: { group_name: '来源', tag: [{ name: '展会' }, { name: '抖音' }] } });
    const group = added.tag_group as { group_id: string; tag: Array<{ id: string; name: string }> };
    expect((await api('/externalcontact/edit_corp_tag', { body: { id: group.tag[1]!.id, name: '展会' } })).errcode).toBe(40071);
    expect((await api('/externalcontact/edit_corp_tag', { body: { id: group.group_id, name: '客户等级' } })).errcode).toBe(40071);
    expect(sim.state.findTag(group.tag[1]!.id)?.tag.name).toBe('抖音');
    expect(sim.state.tagGroups.find((g) => g.groupId === group.group_id)?.groupName).toBe('来源');
    // Renaming to its own name is no clash.
    expect((await api('/externalcontact/edit_corp_tag', { body: { id: group.tag[0]!.id, name: '展会', order: 2 } })).errcode).toBe(0);
    await api('/externalcontact/del_corp_tag', { body: { group_id: [group.group_id] } });
  });
});

describe('welcome codes', () => {
  const send = (code: string) => api('/externalcontact/send_welcome_msg', { body: { welcome_code: code, text: { content: '欢迎' } } });

  it('are valid once, for 20 s', async () => {
    const fresh = sim.state.issueWelcomeCode('zhangsan', customer);
    clock.advance(19_000);
    expect((await send(fresh)).errcode).toBe(0);
    expect((await send(fresh)).errcode).toBe(41050);

    const stale = sim.state.issueWelcomeCode('zhangsan', customer);
    clock.advance(21_000);
    expect((await send(stale)).errcode).toBe(41050);
    expect((await send('WCunknown')).errcode).toBe(41050);
  });

  it('answer 41051 once the chat has started', async () => {
    const code = sim.state.issueWelcomeCode('zhangsan', customer);
    sim.state.markChatStarted(code);
    expect((await send(code)).errcode).toBe(41051);
  });
});

describe('groups, channel QRs and mass sends', () => {
  it('pages groupchat/list and answers groupchat/get', async () => {
    for (let i = 0; i < 3; i++) {
      sim.state.addGroupChat({
        name: `交流群${i}`,
        owner: 'zhangsan',
        members: [{ userid: customer, type: 2, joinTime: 1, joinScene: 3, invitor: 'zhangsan', name: '陈静' }],
      });
    }
    const first = await api('/externalcontact/groupchat/list', { body: { owner_filter: { userid_list: ['zhangsan'] }, limit: 2 } });
    const second = await api('/externalcontact/groupchat/list', {
      body: { owner_filter: { userid_list: ['zhangsan'] }, limit: 2, cursor: first.next_cursor },
    });
    const ids = [...(first.group_chat_list as Array<{ chat_id: string }>), ...(second.group_chat_list as Array<{ chat_id: string }>)];
    expect(ids).toHaveLength(3);
    expect(second.next_cursor).toBe('');
    const detail = await api('/externalcontact/groupchat/get', { body: { chat_id: ids[0]!.chat_id, need_name: 1 } });
    expect(detail.group_chat).toMatchObject({ owner: 'zhangsan', member_list: [{ userid: customer, type: 2, invitor: { userid: 'zhangsan' }, name: '陈静' }] });
    expect((await api('/externalcontact/groupchat/get', { body: { chat_id: 'wrNOPE' } })).errcode).toBe(40050);
  });

  it('add_msg_template returns a msgid and the unknown users in fail_list', async () => {
    const answer = await api('/externalcontact/add_msg_template', {
      body: { chat_type: 'single', external_userid: [customer, 'wmNOPE'], sender: 'zhangsan', text: { content: '新品上市' } },
    });
    expect(answer.errcode).toBe(0);
    expect(answer.msgid).toEqual(expect.any(String));
    expect(answer.fail_list).toEqual(['wmNOPE']);
  });

  it('add_contact_way returns a config id and QR, and keeps the state', async () => {
    const answer = await api('/externalcontact/add_contact_way', { body: { type: 1, scene: 2, state: 'baidu_sem', user: ['lisi'] } });
    expect(answer).toMatchObject({ errcode: 0, config_id: expect.any(String), qr_code: expect.stringMatching(/^https:/) });
    expect(sim.state.contactWays.get(answer.config_id as string)?.state).toBe('baidu_sem');
    expect((await api('/externalcontact/add_contact_way', { body: { type: 1, scene: 2, state: 'x'.repeat(31), user: ['lisi'] } })).errcode).toBe(40058);
  });
});

describe('fault injection and the call log', () => {
  it('plays an errcode the given number of times, then answers normally', async () => {
    sim.inject({ api: '/externalcontact/get', errcode: 45009, times: 2 });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await api('/externalcontact/get', { query: { external_userid: customer } })).errcode);
    expect(codes).toEqual([45009, 45009, 0]);
    expect(sim.calls('/externalcontact/get').map((c) => c.errcode)).toEqual([45009, 45009, 0]);
    expect(sim.calls('/externalcontact/get')[0]?.query.external_userid).toBe(customer);
  });

  it('drops connections and answers HTTP errors', async () => {
    sim.inject({ api: '/externalcontact/list', dropConnection: true });
    await expect(api('/externalcontact/list', { query: { userid: 'zhangsan' } })).rejects.toThrow();
    sim.inject({ api: '*', httpStatus: 503 });
    const response = await fetch(`${sim.apiBase}/externalcontact/list?userid=zhangsan&access_token=${token}`);
    expect(response.status).toBe(503);
    expect(sim.calls()).toHaveLength(2);
    sim.resetCalls();
    expect(sim.calls()).toHaveLength(0);
  });

  it('refuses a fault that does nothing', () => {
    expect(() => sim.inject({ api: '/gettoken' })).toThrow();
  });
});

describe('sign-in and tickets', () => {
  it('resolves an OAuth code once and issues JS-SDK tickets', async () => {
    const code = sim.state.issueOAuthCode('lisi');
    expect(await api('/auth/getuserinfo', { query: { code } })).toMatchObject({ errcode: 0, userid: 'lisi' });
    expect((await api('/auth/getuserinfo', { query: { code } })).errcode).toBe(40029);
    expect(await api('/get_jsapi_ticket')).toMatchObject({ errcode: 0, ticket: expect.any(String), expires_in: 7200 });
    expect(await api('/ticket/get', { query: { type: 'agent_config' } })).toMatchObject({ errcode: 0, expires_in: 7200 });
  });
});
