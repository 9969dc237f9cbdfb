export { createWecomClient, DEFAULT_API_BASE, type WecomClient, type WecomClientOptions } from './client.ts';
export {
  WecomError,
  WecomApiError,
  WecomTransportError,
  WecomResponseError,
  errcodeHint,
  BUSY_ERRCODES,
  STALE_TOKEN_ERRCODES,
} from './errors.ts';
export { redactUrl } from './redact.ts';
export { paginate } from './pagination.ts';
export type { RetryPolicy, CallObserver } from './request.ts';
export type { Attachment, TextContent } from './api/common.ts';
export type {
  ExternalProfile,
  FollowUser,
  FollowInfo,
  ExternalContactDetail,
  ExternalContactBatchPage,
  ExternalContactWithFollow,
  BatchGetByUserRequest,
  RemarkRequest,
} from './api/external-contact.ts';
export type {
  CorpTag,
  CorpTagGroup,
  ListTagsRequest,
  AddTagsRequest,
  EditTagRequest,
  DeleteTagsRequest,
  MarkTagRequest,
} from './api/tags.ts';
export type { WelcomeRequest } from './api/welcome.ts';
export type {
  AddTemplateRequest,
  AddTemplateResult,
  GroupMsgListRequest,
  GroupMsgListPage,
  GroupMsgPageRequest,
  GroupMsgTaskPage,
  GroupMsgSendResultPage,
} from './api/mass-send.ts';
export type {
  ListGroupChatsRequest,
  GroupChatListPage,
  GroupChatSummary,
  GroupChatDetail,
  GroupMember,
} from './api/group-chat.ts';
export type { GroupWelcomeTemplate, AddGroupWelcomeRequest, EditGroupWelcomeRequest, GroupWelcomeTemplateDetail } from './api/group-welcome.ts';
export type { AddContactWayRequest, ContactWay } from './api/contact-way.ts';
export type { Member } from './api/user.ts';
export type { OAuthIdentity } from './api/auth.ts';
export { TEMPORARY_MEDIA_LIFETIME_MS, type MediaType, type MediaUpload, type UploadedMedia } from './api/media.ts';
export type { AppMessage, AppMessageBody, AppMessageResult, NewsArticle } from './api/message.ts';
