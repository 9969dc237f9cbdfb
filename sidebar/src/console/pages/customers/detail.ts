import type { Stage } from '../../../shared/stages.ts';

/**
 * GET /api/admin/contacts/:externalUserId (contract-14: profile across all reps, relations, tags,
 * stage (+ override), score with reasons, orders, SOP jobs, timeline paged). The contract names the
 * parts, not every field, so everything past the names is optional and the page shows what it gets.
 */
export interface CustomerDetail {
  contact: { externalUserId: string; name: string; avatar?: string; corpName?: string; position?: string; phone?: string | null; gender?: number };
  relations: Array<{ userId: string; remark?: string; description?: string; state?: string | null; channelName?: string | null; status: string; addedAt?: string | null; tagIds?: string[]; tags?: Array<{ tagId: string; name: string }> }>;
  tags: Array<{ tagId: string; name: string; groupName?: string }>;
  stage: StageView | Stage | null;
  score: { value: number; reasons: Array<{ points: number; code?: string; text: string }> } | number | null;
  orders: { count: number; spentFen: number; items: Order[] } | Order[];
  sopJobs?: CustomerJob[];
  groups?: Array<{ chatId: string; name: string }>;
  timeline: { items: TimelineItem[]; nextCursor: string | null } | TimelineItem[];
}
export interface Order { orderId?: string; amountFen?: number; paidAt?: string | null; status?: string }
/** A SOP job of this customer, with its plan's name (the SOP module's codes for status and outcome). */
export interface CustomerJob { id: string; planId: string; plan: string | null; stepId: string; status: string; outcome: string | null; dueAt: string; detail?: Record<string, unknown> | null }
export interface StageView { computed: Stage | null; override: Stage | null; effective: Stage | null }
export interface TimelineItem { at: string; kind: string; userId?: string | null; data?: Record<string, unknown> | null }

/** The stage as the page shows it, whichever of the two shapes the server answered. */
export function stageOf(d: CustomerDetail): StageView {
  if (d.stage === null || typeof d.stage === 'string') return { effective: d.stage, computed: d.stage, override: null };
  return d.stage;
}
export const scoreOf = (d: CustomerDetail) => (d.score === null || typeof d.score === 'number' ? { value: d.score, reasons: [] } : d.score);
export const timelineOf = (d: CustomerDetail) => (Array.isArray(d.timeline) ? { items: d.timeline, nextCursor: null } : d.timeline);
export const ordersOf = (d: CustomerDetail) => (Array.isArray(d.orders) ? { count: d.orders.length, spentFen: d.orders.reduce((s, o) => s + (o.amountFen ?? 0), 0), items: d.orders } : d.orders);
