import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decrypt, encrypt, getJsApiSignature, getSignature } from '@wecom/crypto';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { DECRYPT_MSG, JSAPI_SIGNATURE, VECTOR_CORP as VECTOR, VERIFY_URL } from '../support/wecom-vectors.ts';

interface Received {
  method: string;
  query: URLSearchParams;
  body: string;
  contentType: string | undefined;
}

/** Stands in for our callback endpoint: records what arrives, and answers the URL check honestly. */
async function startReceiver(answer: (req: Received) => { status: number; body: string }) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        query: new URL(req.url ?? '/', 'http://x').searchParams,
        body: Buffer.concat(chunks).toString(),
        contentType: req.headers['content-type'],
      };
      received.push(entry);
      const { status, body } = answer(entry);
      res.writeHead(status).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wecom/callback`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const parser = new XMLParser({ parseTagValue: false });
const parse = (xml: string) => (parser.parse(xml) as { xml: Record<string, unknown> }).xml;

let sim: WecomSimulator;

beforeAll(async () => {
  sim = await startWecomSimulator({ corp: { ...VECTOR, agentId: 218 } });
  sim.state.addRep({ userid: 'zhangsan', name: '张三' });
});

afterAll(() => sim.close());

describe('official vectors', () => {
  it('VerifyURL: the signature matches and echostr decrypts', () => {
    expect(getSignature(VECTOR.token, VERIFY_URL.timestamp, VERIFY_URL.nonce, VERIFY_URL.echostr)).toBe(VERIFY_URL.msg_signature);
    const { message, id } = decrypt(VECTOR.encodingAesKey, VERIFY_URL.echostr);
    expect(message).toBe(VERIFY_URL.plaintext);
    expect(id).toBe(VECTOR.corpId);
  });

  it('DecryptMsg: the signature matches and Encrypt decrypts to the XML (32-byte padding)', () => {
    expect(getSignature(VECTOR.token, DECRYPT_MSG.timestamp, DECRYPT_MSG.nonce, DECRYPT_MSG.encrypt)).toBe(DECRYPT_MSG.msg_signature);
    const { message, id, random } = decrypt(VECTOR.encodingAesKey, DECRYPT_MSG.encrypt);
    expect(message).toBe(DECRYPT_MSG.plaintext);
    expect(id).toBe(VECTOR.corpId);
    // Same random prefix → byte-identical ciphertext: encryption pads exactly as WeCom does.
    expect(encrypt(VECTOR.encodingAesKey, DECRYPT_MSG.plaintext, VECTOR.corpId, random)).toBe(DECRYPT_MSG.encrypt);
  });

  it('JS-SDK signature', () => {
    const { ticket, nonceStr, timestamp, url, signature } = JSAPI_SIGNATURE;
    expect(getJsApiSignature({ ticket, nonceStr, timestamp, url }).signature).toBe(signature);
  });
});

describe('sendCallback', () => {
  it('POSTs a signed, encrypted envelope that decrypts to the event XML', async () => {
    const receiver = await startReceiver(() => ({ status: 200, body: 'success' }));
    try {
      const scan = sim.scanChannelQr({ customer: { name: '黄婷' }, userid: 'zhangsan', state: 'douyin_618' });
      const delivery = await sim.sendCallback(receiver.url, scan.event, { timestamp: 1409659813, nonce: '1372623149' });
      expect(delivery).toMatchObject({ status: 200, body: 'success' });

      const request = receiver.received[0]!;
      expect(request.method).toBe('POST');
      expect(request.contentType).toContain('xml');
      expect(request.query.get('timestamp')).toBe('1409659813');
      expect(request.query.get('nonce')).toBe('1372623149');
      const envelope = parse(request.body);
      expect(envelope).toMatchObject({ ToUserName: VECTOR.corpId, AgentID: '218' });
      expect(request.body).toMatch(/^<xml><ToUserName><!\[CDATA\[wx5823bf96d3bd56c7\]\]><\/ToUserName><Encrypt><!\[CDATA\[[^\]]+\]\]><\/Encrypt><AgentID><!\[CDATA\[218\]\]><\/AgentID><\/xml>$/);

      const encrypted = envelope.Encrypt as string;
      expect(getSignature(VECTOR.token, '1409659813', '1372623149', encrypted)).toBe(request.query.get('msg_signature'));
      const { message, id } = decrypt(VECTOR.encodingAesKey, encrypted);
      expect(id).toBe(VECTOR.corpId);
      expect(message).toBe(delivery.plaintext);
      expect(message).toBe(
        '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>' +
          '<CreateTime>1409659813</CreateTime><MsgType><![CDATA[event]]></MsgType>' +
          '<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>' +
          `<UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[${scan.contact.externalUserid}]]></ExternalUserID>` +
          `<State><![CDATA[douyin_618]]></State><WelcomeCode><![CDATA[${scan.welcomeCode}]]></WelcomeCode></xml>`,
      );
    } finally {
      await receiver.close();
    }
  });

  it('reports what the receiver answered', async () => {
    const receiver = await startReceiver(() => ({ status: 403, body: 'bad signature' }));
    try {
      const delivery = await sim.sendCallback(receiver.url, events.chatDismiss('wrCHAT'));
      expect(delivery).toMatchObject({ status: 403, body: 'bad signature' });
      expect(delivery.latencyMs).toEqual(expect.any(Number));
    } finally {
      await receiver.close();
    }
  });
});

describe('verifyUrl', () => {
  it('passes when the receiver verifies the signature and answers the decrypted echostr', async () => {
    const receiver = await startReceiver(({ query }) => {
      const echostr = query.get('echostr') ?? '';
      const signed = getSignature(VECTOR.token, query.get('timestamp') ?? '', query.get('nonce') ?? '', echostr);
      if (signed !== query.get('msg_signature')) return { status: 403, body: '' };
      return { status: 200, body: decrypt(VECTOR.encodingAesKey, echostr).message };
    });
    try {
      const check = await sim.verifyUrl(receiver.url);
      expect(check.ok).toBe(true);
      expect(check.body).toBe(check.expected);
      expect(receiver.received[0]?.method).toBe('GET');
    } finally {
      await receiver.close();
    }
  });

  it('fails when the receiver answers anything else', async () => {
    const receiver = await startReceiver(({ query }) => ({ status: 200, body: `"${decrypt(VECTOR.encodingAesKey, query.get('echostr') ?? '').message}"` }));
    try {
      expect((await sim.verifyUrl(receiver.url)).ok).toBe(false);
    } finally {
      await receiver.close();
    }
  });
});

describe('event builders', () => {
  it('change_external_contact variants carry their fields and leave absent ones out', async () => {
    const receiver = await startReceiver(() => ({ status: 200, body: '' }));
    try {
      const ref = { userid: 'zhangsan', externalUserid: 'wmX' };
      const cases = [
        [events.addExternalContact({ ...ref, state: 's' }), 'add_external_contact', { State: 's' }],
        [events.addHalfExternalContact(ref), 'add_half_external_contact', {}],
        [events.editExternalContact(ref), 'edit_external_contact', {}],
        [events.delExternalContact({ ...ref, source: 'DELETE_BY_TRANSFER' }), 'del_external_contact', { Source: 'DELETE_BY_TRANSFER' }],
        [events.delFollowUser(ref), 'del_follow_user', {}],
        [events.transferFail({ ...ref, failReason: 'customer_refused' }), 'transfer_fail', { FailReason: 'customer_refused' }],
      ] as const;
      for (const [event, changeType, extra] of cases) {
        const delivery = await sim.sendCallback(receiver.url, event);
        const fields = parse(delivery.plaintext);
        expect(fields).toMatchObject({ Event: 'change_external_contact', ChangeType: changeType, UserID: 'zhangsan', ExternalUserID: 'wmX', FromUserName: 'sys', MsgType: 'event', ...extra });
        if (changeType !== 'add_external_contact') expect(fields).not.toHaveProperty('WelcomeCode');
      }
    } finally {
      await receiver.close();
    }
  });

  it('change_external_chat update lists the changed members', async () => {
    const receiver = await startReceiver(() => ({ status: 200, body: '' }));
    try {
      const event = events.chatUpdate({ chatId: 'wrCHAT', updateDetail: 'add_member', joinScene: 3, memChangeList: ['wmA', 'wmB'] });
      const delivery = await sim.sendCallback(receiver.url, event);
      expect(delivery.plaintext).toContain('<JoinScene>3</JoinScene><MemChangeCnt>2</MemChangeCnt><MemChangeList><Item><![CDATA[wmA]]></Item><Item><![CDATA[wmB]]></Item></MemChangeList>');
      expect(parse(delivery.plaintext)).toMatchObject({ Event: 'change_external_chat', ChangeType: 'update', ChatId: 'wrCHAT', UpdateDetail: 'add_member' });
      expect(parse((await sim.sendCallback(receiver.url, events.chatCreate('wrNEW'))).plaintext)).toMatchObject({ ChangeType: 'create', ChatId: 'wrNEW' });
    } finally {
      await receiver.close();
    }
  });

  it('change_external_tag carries Id and TagType', async () => {
    const receiver = await startReceiver(() => ({ status: 200, body: '' }));
    try {
      const delivery = await sim.sendCallback(receiver.url, events.tagChange('delete', { id: 'etG', tagType: 'tag_group' }));
      expect(parse(delivery.plaintext)).toMatchObject({ Event: 'change_external_tag', ChangeType: 'delete', Id: 'etG', TagType: 'tag_group' });
      const shuffle = await sim.sendCallback(receiver.url, events.tagShuffle('etG'));
      expect(parse(shuffle.plaintext)).toMatchObject({ Event: 'change_external_tag', ChangeType: 'shuffle', Id: 'etG' });
    } finally {
      await receiver.close();
    }
  });
});
