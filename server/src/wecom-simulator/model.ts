/**
 * What the simulator knows about its corp: the slice of WeCom's own data that the SCRM reads
 * and writes. Field names follow the domain; the route handlers translate to qyapi's JSON.
 */
export interface SimCorp {
  corpId: string;
  agentId: number;
  /** The app secret gettoken accepts. */
  secret: string;
  /** Callback Token and EncodingAESKey, as set in the admin console. */
  token: string;
  encodingAesKey: string;
}

/** A member of the corp with the 客户联系 permission. */
export interface SimRep {
  userid: string;
  name: string;
  position?: string;
}

/** One rep's side of the relation with a customer. */
export interface SimFollow {
  userid: string;
  remark: string;
  description: string;
  /** Unix seconds. */
  createtime: number;
  tagIds: string[];
  state?: string;
  /** 1 = scanned a QR code, 2 = searched the phone number, ... as WeCom numbers them. */
  addWay: number;
  remarkCorpName?: string;
  remarkMobiles: string[];
}

export interface SimContact {
  externalUserid: string;
  name: string;
  /** 1 = personal WeChat, 2 = WeCom user of another corp. */
  type: 1 | 2;
  avatar: string;
  gender: 0 | 1 | 2;
  unionid?: string;
  corpName?: string;
  corpFullName?: string;
  position?: string;
  follows: SimFollow[];
}

export interface SimTag {
  id: string;
  name: string;
  order: number;
  createTime: number;
}

export interface SimTagGroup {
  groupId: string;
  groupName: string;
  order: number;
  createTime: number;
  tags: SimTag[];
}

export interface SimGroupMember {
  userid: string;
  /** 1 = corp member, 2 = external contact. */
  type: 1 | 2;
  joinTime: number;
  joinScene: 1 | 2 | 3;
  invitor?: string;
  groupNickname?: string;
  name?: string;
}

export interface SimGroupChat {
  chatId: string;
  name: string;
  owner: string;
  createTime: number;
  notice: string;
  /** 0 = normal, 1 = owner left, 2 = being handed over, 3 = hand-over done. */
  status: 0 | 1 | 2 | 3;
  members: SimGroupMember[];
  admins: string[];
}

export interface SimContactWay {
  configId: string;
  type: 1 | 2;
  scene: 1 | 2;
  state?: string;
  user: string[];
  skipVerify: boolean;
  qrCode: string;
  remark?: string;
}

/** One delivery of a mass-send task: to a customer (single) or a group (group), by one rep. */
export interface SimMassDelivery {
  sender: string;
  externalUserid?: string;
  chatId?: string;
  /** 0 = not sent, 1 = sent, 2 = not a friend any more, 3 = already got another mass message. */
  status: 0 | 1 | 2 | 3;
  sendTime?: number;
}

export interface SimMassTask {
  msgid: string;
  chatType: 'single' | 'group';
  creator?: string;
  createTime: number;
  /** 0 = created by the enterprise through the API. */
  createType: 0 | 1;
  text?: { content: string };
  attachments: unknown[];
  deliveries: SimMassDelivery[];
}

export type GroupWelcomeAttachmentKind = 'image' | 'link' | 'miniprogram' | 'file' | 'video';

/** A 入群欢迎语 template in the simulated 素材库. */
export interface SimGroupWelcomeTemplate {
  templateId: string;
  text?: { content: string };
  /** At most one, kept as sent (image, link, miniprogram, file or video). */
  attachment?: { msgtype: GroupWelcomeAttachmentKind; [key: string]: unknown };
  notify: 0 | 1;
  createTime: number;
}

export interface SimWelcomeCode {
  code: string;
  userid: string;
  externalUserid: string;
  issuedAt: number;
  used: boolean;
  /** The customer already wrote first, so WeCom refuses the welcome (41051). */
  chatStarted: boolean;
}

/** Temporary media from media/upload; WeCom forgets it 3 days after createdAt. */
export interface SimMedia {
  mediaId: string;
  type: 'image' | 'voice' | 'video' | 'file';
  filename: string;
  contentType: string;
  size: number;
  /** Unix seconds, as media/upload answers it. */
  createdAt: number;
}

/** An app message (message/send) as one member received it. */
export interface SimAppMessage {
  msgid: string;
  userid: string;
  agentid: number;
  msgtype: 'text' | 'image' | 'news';
  text?: { content: string };
  image?: { media_id: string };
  news?: { articles: Array<{ title: string; description?: string; url: string; picurl?: string }> };
  /** Unix seconds. */
  sendTime: number;
}
