export { Replies, REPLY_SOURCES, type ReplySource, type ReplyMark, type ArchivedMessage, type ChatArchiveSource } from './sources.ts';
export { replySourcesModule } from './routes.ts';
