import { timingSafeEqual } from 'node:crypto';
import { decrypt, encrypt, getSignature } from '@wecom/crypto';

export interface CallbackSecrets {
  token: string;
  encodingAesKey: string;
  /** receiveid: the corp id for a self-built app. A message for any other receiver is refused. */
  corpId: string;
}

export class CallbackRejected extends Error {
  constructor(
    readonly reason: 'bad_signature' | 'undecryptable' | 'wrong_receiver' | 'malformed_xml' | 'forbidden_xml',
    message: string,
  ) {
    super(message);
    this.name = 'CallbackRejected';
  }
}

export function signatureMatches(
  secrets: CallbackSecrets,
  query: { timestamp: string; nonce: string; msg_signature: string },
  payload: string,
): boolean {
  const expected = Buffer.from(getSignature(secrets.token, query.timestamp, query.nonce, payload), 'utf8');
  const given = Buffer.from(query.msg_signature.toLowerCase(), 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** AES-256-CBC with WeCom's 32-byte PKCS#7 padding; checks the plaintext names our corp as receiver. */
export function openEnvelope(secrets: CallbackSecrets, encrypted: string): string {
  let opened: { message: string; id: string };
  try {
    opened = decrypt(secrets.encodingAesKey, encrypted);
  } catch {
    throw new CallbackRejected('undecryptable', 'payload does not decrypt with the configured EncodingAESKey');
  }
  if (opened.id !== secrets.corpId) {
    throw new CallbackRejected('wrong_receiver', 'payload is addressed to another corp');
  }
  return opened.message;
}

/** The inverse, for passive replies and for the simulator's callback sender. */
export function sealEnvelope(secrets: CallbackSecrets, message: string, random?: Buffer): string {
  return encrypt(secrets.encodingAesKey, message, secrets.corpId, random);
}

export { getSignature as callbackSignature };
