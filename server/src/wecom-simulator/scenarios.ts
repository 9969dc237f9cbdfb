import { events, type CallbackEvent } from './callbacks/events.ts';
import type { SimContact } from './model.ts';
import type { NewContact, SimState } from './state.ts';

export interface ChannelScan {
  /** The new customer, or the external_userid of one the simulator already knows. */
  customer: NewContact | string;
  /** The rep whose channel QR was scanned. */
  userid: string;
  /** The channel QR's `state`. */
  state?: string;
  /** WeCom issues no welcome code when a console welcome is configured or the chat already started. */
  withWelcomeCode?: boolean;
  /** Friend request awaiting the rep's confirmation (skip_verify off): add_half_external_contact. */
  half?: boolean;
  /**
   * When the scan happens (ms), if not now: a load generator prepares a spike ahead, and each welcome
   * code's 20 s then runs from its own moment (sign the event with that second as its timestamp).
   */
  at?: number;
}

export interface ChannelScanResult {
  contact: SimContact;
  welcomeCode: string | undefined;
  event: CallbackEvent;
}

/**
 * "Customer X scans channel QR with state S and adds rep U": the relation now exists in the
 * simulator's data (so externalcontact/get sees it) and the event to deliver is returned.
 */
export function scanChannelQr(state: SimState, scan: ChannelScan): ChannelScanResult {
  const contact = typeof scan.customer === 'string' ? state.requireContact(scan.customer) : state.addContact(scan.customer);
  state.addFollow(contact.externalUserid, { userid: scan.userid, addWay: 1, ...(scan.state === undefined ? {} : { state: scan.state }) });
  const welcomeCode = scan.withWelcomeCode === false ? undefined : state.issueWelcomeCode(scan.userid, contact.externalUserid, scan.at);
  const ref = {
    userid: scan.userid,
    externalUserid: contact.externalUserid,
    ...(scan.state === undefined ? {} : { state: scan.state }),
    ...(welcomeCode === undefined ? {} : { welcomeCode }),
  };
  return { contact, welcomeCode, event: scan.half ? events.addHalfExternalContact(ref) : events.addExternalContact(ref) };
}
