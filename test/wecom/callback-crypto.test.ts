import { describe, expect, it } from 'vitest';
import {
  CallbackRejected,
  openEnvelope,
  parseWecomXml,
  sealEnvelope,
  signatureMatches,
} from '../../server/src/wecom/index.ts';
import { DECRYPT_MSG, VECTOR_CORP, VERIFY_URL } from '../support/wecom-vectors.ts';

const SECRETS = VECTOR_CORP;

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
