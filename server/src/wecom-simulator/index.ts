export { randomCorp, startWecomSimulator, type SimulatorOptions, type WecomSimulator } from './simulator.ts';
export { seedDemoCorp } from './demo-seed.ts';
export { SimState, type NewContact, type NewFollow } from './state.ts';
export type { Fault } from './faults.ts';
export type { SimCall } from './call-log.ts';
export { events, eventXml, type CallbackEvent, type ContactRef, type ChatUpdateDetail, type TagChange } from './callbacks/events.ts';
export { signCallback, type CallbackDelivery, type CallbackQuery, type SendOptions, type SignedCallback, type UrlVerification } from './callbacks/sender.ts';
export type { ChannelScan, ChannelScanResult } from './scenarios.ts';
export type * from './model.ts';
