export {
  CallbackRejected,
  openEnvelope,
  sealEnvelope,
  signatureMatches,
  callbackSignature,
  type CallbackSecrets,
} from './callback/crypto.ts';
export { parseWecomXml, textField, type XmlFields } from './callback/xml.ts';
export type { InboxItem, InboxModel } from './inbox.ts';
export { createWecomIntegration, type WecomIntegration, type WecomIntegrationDeps } from './integration.ts';
export type { ContactAdded, ContactTagged, NewContactFacts } from './events/handlers.ts';
export * from './client/index.ts';
export { syncFromWecom, type SyncPhase, type SyncProgress, type SyncSummary } from './sync.ts';
export { RepNames } from './rep-names.ts';
export { tagRows } from './events/mapping.ts';
