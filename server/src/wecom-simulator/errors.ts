/** A WeCom error answer; handlers throw it and the server turns it into `{errcode, errmsg}`. */
export class SimError extends Error {
  constructor(
    readonly errcode: number,
    errmsg?: string,
  ) {
    super(errmsg ?? defaultErrmsg(errcode));
  }
}

/** The IP the simulator claims to see when it refuses an untrusted caller (60020). */
export const SIM_CALLER_IP = '203.0.113.7';

const MESSAGES: Record<number, string> = {
  [-1]: 'system busy',
  40001: 'invalid credential',
  40004: 'invalid media type',
  40005: 'invalid type',
  40006: 'invalid file size',
  40007: 'invalid media_id',
  40008: 'invalid message type',
  40009: 'invalid image size',
  40011: 'invalid video size',
  40013: 'invalid corpid',
  40014: 'invalid access_token',
  40029: 'invalid code',
  40050: 'chatid not found',
  40058: 'invalid parameter',
  40068: 'invalid tagid',
  40071: 'tag name already exists',
  40096: 'invalid external userid',
  40056: 'invalid agentid',
  41006: 'media_id missing',
  44001: 'empty media data',
  41050: 'welcome code is invalid or expired',
  41051: 'customer has already started a chat',
  42001: 'access_token expired',
  45009: 'api freq out of limit',
  45033: 'api concurrent out of limit',
  48002: 'api forbidden',
  60020: `not allow to access from your ip, from ip: ${SIM_CALLER_IP}`,
  60111: 'userid not found',
  81013: 'user & party & tag all invalid',
  84061: 'not external contact',
};

/** Shaped like WeCom's: message, a hint and where to read more. */
export function defaultErrmsg(errcode: number): string {
  const base = MESSAGES[errcode] ?? 'error';
  return `${base}, hint: [sim], more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`;
}
