import { xmlElement, type XmlValue } from './xml.ts';

/**
 * A customer-contact event as WeCom pushes it: Event and ChangeType, then the event's own
 * fields in WeCom's order. Built by the helpers below; turned into XML by `eventXml`.
 */
export interface CallbackEvent {
  event: 'change_external_contact' | 'change_external_chat' | 'change_external_tag';
  changeType: string;
  fields: ReadonlyArray<readonly [name: string, value: XmlValue]>;
  /** Unix seconds; the time of sending when absent. */
  createTime?: number;
}

/** Optional fields are left out of the XML entirely, as WeCom does. */
function present(fields: Array<readonly [string, XmlValue | undefined]>): Array<readonly [string, XmlValue]> {
  return fields.filter((f): f is readonly [string, XmlValue] => f[1] !== undefined);
}

export interface ContactRef {
  userid: string;
  externalUserid: string;
}

const contactEvent = (changeType: string, fields: Array<readonly [string, XmlValue | undefined]>): CallbackEvent => ({
  event: 'change_external_contact',
  changeType,
  fields: present(fields),
});

export type ChatUpdateDetail = 'add_member' | 'del_member' | 'change_owner' | 'change_name' | 'change_notice';
export type TagChange = 'create' | 'update' | 'delete';

export const events = {
  /** A customer added a rep; WelcomeCode is absent when WeCom would not issue one. */
  addExternalContact: (ref: ContactRef & { state?: string; welcomeCode?: string }) =>
    contactEvent('add_external_contact', [
      ['UserID', ref.userid],
      ['ExternalUserID', ref.externalUserid],
      ['State', ref.state],
      ['WelcomeCode', ref.welcomeCode],
    ]),
  /** Sent before the rep confirms a friend request (no verification skipped). */
  addHalfExternalContact: (ref: ContactRef & { state?: string; welcomeCode?: string }) =>
    contactEvent('add_half_external_contact', [
      ['UserID', ref.userid],
      ['ExternalUserID', ref.externalUserid],
      ['State', ref.state],
      ['WelcomeCode', ref.welcomeCode],
    ]),
  editExternalContact: (ref: ContactRef) =>
    contactEvent('edit_external_contact', [
      ['UserID', ref.userid],
      ['ExternalUserID', ref.externalUserid],
    ]),
  /** The rep deleted the customer; Source is DELETE_BY_TRANSFER when it happened through a hand-over. */
  delExternalContact: (ref: ContactRef & { source?: 'DELETE_BY_TRANSFER' }) =>
    contactEvent('del_external_contact', [
      ['UserID', ref.userid],
      ['ExternalUserID', ref.externalUserid],
      ['Source', ref.source],
    ]),
  /** The customer deleted the rep: the churn signal. */
  delFollowUser: (ref: ContactRef) =>
    contactEvent('del_follow_user', [
      ['UserID', ref.userid],
      ['ExternalUserID', ref.externalUserid],
    ]),
  transferFail: (ref: ContactRef & { failReason: 'customer_refused' | 'customer_limit_exceed' }) =>
    contactEvent('transfer_fail', [
      ['FailReason', ref.failReason],
      ['UserID', ref.userid],
      ['ExternalUserID', ref.externalUserid],
    ]),

  chatCreate: (chatId: string): CallbackEvent => ({ event: 'change_external_chat', changeType: 'create', fields: [['ChatId', chatId]] }),
  chatUpdate: (update: {
    chatId: string;
    updateDetail: ChatUpdateDetail;
    /** For add_member: 0 = by a member, 1 = invited directly, 2 = by link, 3 = by QR. */
    joinScene?: number;
    /** For del_member: 0 = left on their own, 1 = removed. */
    quitScene?: number;
    memChangeList?: string[];
  }): CallbackEvent => ({
    event: 'change_external_chat',
    changeType: 'update',
    fields: present([
      ['ChatId', update.chatId],
      ['UpdateDetail', update.updateDetail],
      ['JoinScene', update.joinScene],
      ['QuitScene', update.quitScene],
      ['MemChangeCnt', update.memChangeList?.length],
      ['MemChangeList', update.memChangeList],
    ]),
  }),
  chatDismiss: (chatId: string): CallbackEvent => ({ event: 'change_external_chat', changeType: 'dismiss', fields: [['ChatId', chatId]] }),

  tagChange: (changeType: TagChange, ref: { id: string; tagType: 'tag' | 'tag_group' }): CallbackEvent => ({
    event: 'change_external_tag',
    changeType,
    fields: [
      ['Id', ref.id],
      ['TagType', ref.tagType],
    ],
  }),
  /** Tags were reordered; Id is the group (or absent for the whole library, which WeCom sends as empty). */
  tagShuffle: (groupId = ''): CallbackEvent => ({
    event: 'change_external_tag',
    changeType: 'shuffle',
    fields: [['Id', groupId]],
  }),
};

/** The decrypted event XML, byte for byte the shape WeCom sends. */
export function eventXml(corpId: string, event: CallbackEvent, createTime: number): string {
  const body = [
    xmlElement('ToUserName', corpId),
    xmlElement('FromUserName', 'sys'),
    xmlElement('CreateTime', createTime),
    xmlElement('MsgType', 'event'),
    xmlElement('Event', event.event),
    xmlElement('ChangeType', event.changeType),
    ...event.fields.map(([name, value]) => xmlElement(name, value)),
  ];
  return `<xml>${body.join('')}</xml>`;
}
