import { describe, expect, it } from 'vitest';
import {
  CallbackRejected,
  openEnvelope,
  parseWecomXml,
  sealEnvelope,
  signatureMatches,
} from '../../server/src/wecom/index.ts';

// Official vectors from WeCom's callback/Sample.php (see shared/docs/wecom-brief.md).
const SECRETS = { token: 'QDG6eK', encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', corpId: 'wx5823bf96d3bd56c7' };
const VERIFY_URL = {
  msg_signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
  timestamp: '1409659589',
  nonce: '263014780',
  echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
};
const DECRYPT_MSG = {
  msg_signature: '477715d11cdb4164915debcba66cb864d751f3e6',
  timestamp: '1409659813',
  nonce: '1372623149',
  encrypt:
    'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
  plaintext:
    '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>',
};

describe('callback crypto on the official vectors', () => {
  it('verifies the URL-check signature and decrypts echostr', () => {
    expect(signatureMatches(SECRETS, VERIFY_URL, VERIFY_URL.echostr)).toBe(true);
    expect(openEnvelope(SECRETS, VERIFY_URL.echostr)).toBe('1616140317555161061');
  });

  it('decrypts a message whose padding byte is 30 (Node default padding would throw)', () => {
    expect(signatureMatches(SECRETS, DECRYPT_MSG, DECRYPT_MSG.encrypt)).toBe(true);
    expect(openEnvelope(SECRETS, DECRYPT_MSG.encrypt)).toBe(DECRYPT_MSG.plaintext);
  });

  it('rejects a wrong or tampered signature, in any case', () => {
    expect(signatureMatches(SECRETS, { ...VERIFY_URL, msg_signature: '0'.repeat(40) }, VERIFY_URL.echostr)).toBe(false);
    expect(signatureMatches(SECRETS, { ...VERIFY_URL, msg_signature: 'short' }, VERIFY_URL.echostr)).toBe(false);
    expect(signatureMatches(SECRETS, { ...VERIFY_URL, nonce: '1' }, VERIFY_URL.echostr)).toBe(false);
  });

  it('refuses a payload addressed to another corp and one that does not decrypt', () => {
    const foreign = sealEnvelope({ ...SECRETS, corpId: 'wwOTHERCORP' }, '<xml/>');
    expect(() => openEnvelope(SECRETS, foreign)).toThrow(expect.objectContaining({ reason: 'wrong_receiver' }));
    expect(() => openEnvelope(SECRETS, 'bm90IGEgY2lwaGVydGV4dA==')).toThrow(CallbackRejected);
  });

  it('round-trips through seal and open with a 32-byte block', () => {
    const message = '<xml><Content><![CDATA[你好，世界]]></Content></xml>';
    const sealed = sealEnvelope(SECRETS, message);
    expect(Buffer.from(sealed, 'base64').length % 32).toBe(0);
    expect(openEnvelope(SECRETS, sealed)).toBe(message);
  });
});

describe('callback XML', () => {
  it('parses the decrypted vector into string fields, keeping big ids exact', () => {
    expect(parseWecomXml(DECRYPT_MSG.plaintext)).toMatchObject({
      ToUserName: 'wx5823bf96d3bd56c7',
      MsgType: 'text',
      Content: 'hello',
      MsgId: '4561255354251345929',
      CreateTime: '1409659813',
    });
  });

  it('refuses DOCTYPE and entity declarations (XXE, billion laughs)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>';
    expect(() => parseWecomXml(xxe)).toThrow(expect.objectContaining({ reason: 'forbidden_xml' }));
    expect(() => parseWecomXml('<!doctype xml><xml/>')).toThrow(expect.objectContaining({ reason: 'forbidden_xml' }));
  });

  it('refuses malformed XML and a document without an <xml> root', () => {
    expect(() => parseWecomXml('<xml><a></xml>')).toThrow(expect.objectContaining({ reason: 'malformed_xml' }));
    expect(() => parseWecomXml('<root><a>1</a></root>')).toThrow(expect.objectContaining({ reason: 'malformed_xml' }));
    expect(() => parseWecomXml('not xml at all')).toThrow(CallbackRejected);
  });

  it('leaves entity references unexpanded', () => {
    expect(parseWecomXml('<xml><a>&amp;lt;</a></xml>').a).toBe('&amp;lt;');
  });
});
