import mongoose from 'mongoose';
import type { ContactModels } from '../contacts/index.ts';
import { nameCompanyKey } from './key.ts';
import { normalisePhones } from './phone.ts';

export interface Candidate {
  unionId?: string | null;
  phones: string[];
  name?: string | null;
  company?: string | null;
}

export interface MatchedContact {
  externalUserId: string;
  name: string;
  origin: string;
}

export type Match =
  | { verdict: 'same'; contact: MatchedContact; reason: 'unionid' | 'phone' }
  | { verdict: 'probable'; contact: MatchedContact; reason: 'name_company' }
  | { verdict: 'new'; reason: 'no_match' };

const PROJECTION = { _id: 0, externalUserId: 1, name: 1, origin: 1 } as const;

/**
 * Who a candidate record is, strongest evidence first: the same unionid or any shared phone is the
 * same person; the same name at the same company is only probable (namesakes exist), so an operator
 * decides. Each question is one index-served read (unionId, the phones multikey, nameCompanyKey).
 * `exclude` leaves a contact out (the candidate itself, when it is already stored).
 */
export async function matchContact(contacts: Pick<ContactModels, 'Contact'>, candidate: Candidate, exclude?: string): Promise<Match> {
  const { Contact } = contacts;
  const notSelf = exclude ? { externalUserId: mongoose.trusted({ $ne: exclude }) } : {};
  const oldestFirst = { createdAt: 1 } as const;
  if (candidate.unionId) {
    const byUnion = await Contact.findOne({ unionId: candidate.unionId, ...notSelf }, PROJECTION).sort(oldestFirst).lean<MatchedContact>();
    if (byUnion) return { verdict: 'same', contact: byUnion, reason: 'unionid' };
  }
  const phones = normalisePhones(candidate.phones);
  if (phones.length > 0) {
    const byPhone = await Contact.findOne({ phones: mongoose.trusted({ $in: phones }), ...notSelf }, PROJECTION).sort(oldestFirst).lean<MatchedContact>();
    if (byPhone) return { verdict: 'same', contact: byPhone, reason: 'phone' };
  }
  const key = nameCompanyKey(candidate.name, candidate.company);
  if (key) {
    const byName = await Contact.findOne({ nameCompanyKey: key, ...notSelf }, PROJECTION).sort(oldestFirst).lean<MatchedContact>();
    if (byName) return { verdict: 'probable', contact: byName, reason: 'name_company' };
  }
  return { verdict: 'new', reason: 'no_match' };
}
