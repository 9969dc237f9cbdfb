/**
 * Failures of a WeCom server API call. Messages name the API path and never carry the access
 * token or the corp secret, so they are safe to log and to show in the admin console.
 */
export abstract class WecomError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    message: string,
    readonly api: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** WeCom answered with a non-zero errcode. */
export class WecomApiError extends WecomError {
  readonly hint: string | undefined;
  constructor(
    api: string,
    readonly errcode: number,
    readonly errmsg: string,
    readonly retryable: boolean,
  ) {
    const hint = errcodeHint(errcode, errmsg);
    super(`WeCom ${api} failed: errcode ${errcode} (${errmsg})${hint ? ` — ${hint}` : ''}`, api);
    this.hint = hint;
  }
}

/** No usable answer: connection failure, non-2xx status or a body that is not JSON. */
export class WecomTransportError extends WecomError {
  constructor(
    api: string,
    detail: string,
    /** HTTP status, or undefined when no response arrived. */
    readonly status: number | undefined,
    readonly retryable: boolean,
  ) {
    super(`WeCom ${api} failed: ${detail}`, api);
  }
}

/** WeCom answered errcode 0 but without the fields we depend on: the API changed under us. */
export class WecomResponseError extends WecomError {
  readonly retryable = false;
  constructor(api: string, detail: string) {
    super(`WeCom ${api} returned an unexpected response: ${detail}`, api);
  }
}

/** The codes WeCom documents as "try again later"; the request was not carried out. */
export const BUSY_ERRCODES: ReadonlySet<number> = new Set([-1, 45009, 45033]);
/** The access token we sent is no longer valid: refresh it and try once more. */
export const STALE_TOKEN_ERRCODES: ReadonlySet<number> = new Set([40014, 42001]);

const IP_IN_ERRMSG = /from ip:\s*([0-9a-fA-F.:]+)/i;

/** What an operator should do about the errors people actually run into while setting up. */
export function errcodeHint(errcode: number, errmsg: string): string | undefined {
  switch (errcode) {
    case 40001:
    case 40013:
      return 'the corp ID or app secret is wrong: check WECOM_CORP_ID and WECOM_SECRET (the secret of the app, not of the address book)';
    case 48002:
      return 'the app has no permission for this API: list it under 客户联系 → 可调用接口的应用 in the admin console';
    case 60020: {
      const ip = IP_IN_ERRMSG.exec(errmsg)?.[1];
      return `this server's IP${ip ? ` ${ip}` : ''} is not in the app's trusted IPs (企业可信IP) in the admin console`;
    }
    case 84061:
      return 'this rep and this customer have no contact relation (the customer was never added, or deleted the rep)';
    case 40096:
      return 'unknown or malformed external_userid (it may belong to another corp or app)';
    case 41050:
      return 'the welcome code is invalid, already used or past its 20 s validity';
    case 41051:
      return 'the customer and the rep have already started chatting, so no welcome message can be sent';
    case 40004:
      return 'WeCom refused the media file type (images must be JPG or PNG)';
    case 40005:
      return 'invalid media type parameter: use image, voice, video or file';
    case 40006:
      return 'the file size is not accepted (5 bytes to 20 MB for a file)';
    case 40007:
      return 'unknown or expired media_id (temporary media lives 3 days): upload it again';
    case 40008:
      return 'this message type is not supported by the API';
    case 40009:
      return 'the image size is not accepted (5 bytes to 10 MB)';
    case 44001:
      return 'the uploaded media file is empty (send it in the multipart field "media")';
    case 40068:
      return 'unknown tag or tag group id (deleted in WeCom, or never synced): run npm run sync';
    case 40071:
      return 'a tag of that name already exists in the group (or a group of that name in the corp)';
    case 40056:
      return 'the agentid is wrong: check WECOM_AGENT_ID (the app whose secret is WECOM_SECRET)';
    case 81013:
      return 'every recipient is unknown or outside the app\'s visible range (应用可见范围) in the admin console';
    case 82001:
      return 'no permission to send to these members: add them to the app\'s visible range (应用可见范围)';
    case 45009:
      return 'WeCom frequency limit reached for this API; calls are being spaced out';
    case 45033:
      return 'WeCom concurrency limit reached for this API';
    case -1:
      return 'WeCom was busy; try again';
    default:
      return undefined;
  }
}
