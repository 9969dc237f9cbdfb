import type { Content } from '../../../shared/journey.ts';
import type { CustomerFilter } from '../../../shared/filter.ts';

/** Contract-14's one-off 群发 shapes (server/src/mass-sends), kept by hand. */
export type MassAudience = { segmentId: string } | { filter: CustomerFilter } | { groups: string[] };
export interface MassPreview {
  total: number;
  perRep: Array<{ userId: string; customers: number }>;
  /** quietHours is present only when the send falls in quiet hours: nobody is skipped, the whole send waits. */
  skipped: { optedOut: number; capped: number; noRelation: number; quietHours?: { deferredTo: string } };
  /** When it will go out: sendAt (or now), moved past quiet hours. */
  goesAt?: string;
}
export interface MassCounts { sent: number; pending: number; notFriend: number; overLimit: number; failed?: number }
export interface MassSend {
  id: string;
  name: string;
  status: 'scheduled' | 'sending' | 'sent' | 'failed' | 'cancelled';
  sendAt: string | null;
  createdAt?: string;
  content: Content;
  audience: MassAudience;
  totals: MassCounts & { targets: number; failed: number };
  perRep: Array<MassCounts & { userId: string; msgid: string | null; targets: number; remindedAt: string | null; readBackError: string | null; readBackGivenUpAt: string | null }>;
}
export const SKIP_REASONS = ['optedOut', 'capped', 'noRelation'] as const;
/** A send is only worth re-reading while WeCom may still report something new. */
export const isLive = (m: Pick<MassSend, 'status'>) => m.status === 'scheduled' || m.status === 'sending' || m.status === 'sent';
export const audienceKind = (a: MassAudience): 'segment' | 'filter' | 'groups' => ('segmentId' in a ? 'segment' : 'groups' in a ? 'groups' : 'filter');
