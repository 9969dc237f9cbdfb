export {
  CallbackRejected,
  openEnvelope,
  sealEnvelope,
  signatureMatches,
  callbackSignature,
  type CallbackSecrets,
} from './callback/crypto.ts';
export { parseWecomXml, textField, type XmlFields } from './callback/xml.ts';
