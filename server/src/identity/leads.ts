import mongoose from 'mongoose';
import type { ContactModels } from '../contacts/index.ts';
import { nameCompanyKey } from './key.ts';
import { matchContact } from './matcher.ts';
import type { IdentityModels } from './models.ts';
import { normalisePhones } from './phone.ts';
import { openReview } from './reviews.ts';

export interface LeadInput {
  leadId: string;
  name: string;
  phone: string | null;
  company: string;
  title: string;
  email: string;
  source: string;
  submittedAt: Date;
}

/** What a lead did: enriched a contact, opened a review, became a contact-to-be, or was already imported. */
export type LeadOutcome = 'matched' | 'probable' | 'unmatched' | 'unchanged';

/** The contact-to-be a lead no one has met becomes (no rep relation yet). */
export const leadContactId = (leadId: string) => `lead:${leadId}`;

const isDuplicateKey = (err: unknown) => (err as { code?: number }).code === 11000;

/**
 * Records one lead, once per lead_id: a lead of a known person (unionid or phone) enriches that
 * contact and lands on its timeline; any other becomes a contact-to-be attributed to its source,
 * and one that only shares a name and company with someone is also put up for review, not merged.
 */
export async function importLead(stores: { contacts: Pick<ContactModels, 'Contact' | 'TimelineEvent'>; identity: IdentityModels }, lead: LeadInput): Promise<LeadOutcome> {
  const { Contact, TimelineEvent } = stores.contacts;
  // A lead still pending was cut short (a crash mid-import): it is finished now, every step below being idempotent.
  const { leadId, ...fields } = lead;
  let known;
  try {
    known = await stores.identity.Lead.findOneAndUpdate({ leadId }, { $setOnInsert: { ...fields, verdict: 'pending' } }, { upsert: true, returnDocument: 'before' }).lean();
  } catch (err) {
    // Another import inserted the same lead at the same moment: it is that import's to process.
    if (isDuplicateKey(err)) return 'unchanged';
    throw err;
  }
  if (known && known.verdict !== 'pending') return 'unchanged';
  const phones = normalisePhones([lead.phone]);
  const source = `lead:${lead.source || 'unknown'}`;
  const at = lead.submittedAt;
  const match = await matchContact(stores.contacts, { phones, name: lead.name, company: lead.company });
  let externalUserId: string;
  let outcome: LeadOutcome;
  if (match.verdict === 'same') {
    externalUserId = match.contact.externalUserId;
    outcome = 'matched';
    await enrich(stores.contacts, externalUserId, lead, phones, source);
  } else {
    externalUserId = leadContactId(lead.leadId);
    outcome = match.verdict === 'probable' ? 'probable' : 'unmatched';
    const values = { phone: phones[0] ?? '', company: lead.company, title: lead.title, email: lead.email, name: lead.name };
    await Contact.updateOne(
      { externalUserId },
      {
        $setOnInsert: {
          origin: 'lead',
          name: lead.name,
          phone: phones[0] ?? null,
          phones,
          company: lead.company,
          title: lead.title,
          email: lead.email,
          nameCompanyKey: nameCompanyKey(lead.name, lead.company),
          enteredAt: at,
          identitySources: [
            ...Object.entries(values).filter(([, v]) => v).map(([field, value]) => ({ field, value, source, at })),
            { field: 'lead', value: lead.leadId, source, at },
          ],
        },
      },
      { upsert: true },
    );
    if (match.verdict === 'probable') await openReview(stores.identity, [match.contact.externalUserId, externalUserId], match.reason);
  }
  await ignoreDuplicate(
    TimelineEvent.create({
      externalUserId,
      at,
      kind: 'lead_submitted',
      key: `lead:${lead.leadId}`,
      userId: null,
      data: { leadId: lead.leadId, source: lead.source, company: lead.company, title: lead.title },
    }),
  );
  await stores.identity.Lead.updateOne({ leadId: lead.leadId }, { $set: { verdict: outcome, externalUserId } });
  return outcome;
}

/** A known contact takes what the lead adds: its phone, and company, title and email where it had none; the source as attribution. */
async function enrich(contacts: Pick<ContactModels, 'Contact'>, externalUserId: string, lead: LeadInput, phones: string[], source: string): Promise<void> {
  const { Contact } = contacts;
  const current = await Contact.findOne({ externalUserId }, { name: 1, phone: 1, phones: 1, company: 1, title: 1, email: 1, corpName: 1 }).lean();
  if (!current) return;
  const at = lead.submittedAt;
  const set: Record<string, unknown> = {};
  const sources: Array<{ field: string; value: string; source: string; at: Date }> = [{ field: 'lead', value: lead.leadId, source, at }];
  for (const field of ['company', 'title', 'email'] as const) {
    if (!current[field] && lead[field]) {
      set[field] = lead[field];
      sources.push({ field, value: lead[field], source, at });
    }
  }
  const newPhones = phones.filter((p) => !(current.phones ?? []).includes(p));
  for (const phone of newPhones) sources.push({ field: 'phone', value: phone, source, at });
  if (!current.phone && phones[0]) set.phone = phones[0];
  const company = (set.company as string | undefined) || current.company || current.corpName;
  set.nameCompanyKey = nameCompanyKey(current.name || lead.name, company);
  await Contact.updateOne(
    { externalUserId },
    {
      $set: set,
      $addToSet: { phones: { $each: newPhones }, identitySources: { $each: sources } },
    },
  );
}

async function ignoreDuplicate(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}
