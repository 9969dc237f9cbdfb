export { registerContactModels, type ContactModels, type Contact, type FollowRelation, type Tag, type TimelineEvent, type CustomerGroup, type GroupMember, type Channel, type ChurnAlert, type Rep } from './models.ts';
export { knownReps, recordWecomReps, addPlaceholderReps } from './reps.ts';
export { ContactPool, REPLY_KINDS, botChatId, botRoomOf, type ContactSnapshot, type FollowSnapshot, type GroupSnapshot, type TimelineInput, type BotContactSnapshot, type BotRoomSnapshot, type TagRow, type IdentityFacts, type IdentityListener } from './pool.ts';
export { listTagsWithCounts, type TagListItem } from './tag-list.ts';
export { contactsAdminModule } from './admin-routes.ts';
