/** ONE_ID identity review: the shapes of /api/admin/identity/* answers. */
import { ApiError, errorText } from '../../../shared/api.ts';

export type ReasonCode = 'name_company' | 'phone' | 'unionid';

/** One side of a probable match: the contact as the operator compares it. */
export interface ContactCard {
  externalUserId: string;
  name: string;
  avatar?: string;
  company?: string | null;
  title?: string | null;
  phones: string[];
  email?: string | null;
  unionId?: string | null;
  origin?: string | null;
  sources: Array<{ source: string; at: string }>;
  relations: Array<{ userId: string; status: string }>;
  tagCount: number;
  orderCount: number;
}

/** GET /api/admin/identity/reviews?status=open → items. */
export interface Review {
  id: string;
  reason: string;
  status: string;
  contacts: [ContactCard, ContactCard];
}

/** GET /api/admin/identity/merges → items. */
export interface Merge {
  id: string;
  survivor: { externalUserId: string; name: string };
  merged: { externalUserId: string; name: string };
  reason: string;
  auto: boolean;
  mergedAt: string;
  undoneAt: string | null;
}

export interface BulkResult {
  done: number;
  failed: Array<{ id: string; reason: string }>;
}

export const REASONS: readonly string[] = ['name_company', 'phone', 'unionid'];
/** The server's identity error codes (IdentityErrorCode), worded in the messages. */
export const FAILURE_REASONS: readonly string[] = ['not_found', 'not_open', 'contact_gone', 'already_undone', 'merged_back', 'survivor_gone', 'invalid_survivor'];

type Translate = (key: string, params?: Record<string, unknown>) => string;

/** A reason code in the operator's words; an unknown code is shown as it came. */
export const reasonText = (t: Translate, code: string) => (REASONS.includes(code) ? t(`console.identity.reasons.${code}`) : code);

/** Why a bulk item failed, in words; a reason the console does not know is shown as the server gave it. */
export const failureText = (t: Translate, reason: string) =>
  FAILURE_REASONS.includes(reason) ? t(`console.identity.failureReasons.${reason}`) : reason;

/** An error of a decision or undo: a refusal the console knows in words, anything else as `status message`. */
export const actionErrorText = (t: Translate, err: unknown) => {
  const code = err instanceof ApiError && FAILURE_REASONS.includes(err.code) ? err.code : null;
  return code ? t(`console.identity.failureReasons.${code}`) : errorText(err);
};

/** "张三 / 张三（科技）": the two names of a pair, for lists of results. */
export const pairName = (review: Review | undefined, id: string) => (review ? review.contacts.map((c) => c.name || c.externalUserId).join(' / ') : id);
