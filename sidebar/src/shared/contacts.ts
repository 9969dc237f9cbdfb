import { api } from './api.ts';

/** One customer of GET /api/admin/contacts (server/src/contacts/contact-list.ts). */
export interface ContactItem {
  externalUserId: string;
  name: string;
  avatar?: string;
  corpName?: string;
  reps: Array<{ userId: string; status: string; remark?: string }>;
}

/** Customers whose name, company, phone or rep's remark contains the text; the first ones when it is empty. */
export async function searchContacts(q: string, limit = 8): Promise<ContactItem[]> {
  const query = new URLSearchParams({ q: q.trim(), limit: String(limit) });
  return (await api<{ items: ContactItem[] }>(`/api/admin/contacts?${query}`)).items;
}

/** How the operator recognises a customer: the rep's remark where there is one (what the chat list shows), else the WeChat name. */
export function contactLabel(c: ContactItem): string {
  const remark = c.reps.find((r) => r.remark?.trim())?.remark?.trim();
  return remark && remark !== c.name ? `${remark}（${c.name}）` : c.name;
}
