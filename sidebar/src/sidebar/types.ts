/** The shapes the sidebar API answers with (server/src/sidebar-api). */
import type { Stage } from '../shared/stages.ts';

export interface Reason {
  code: string;
  value: string;
  text: string;
}

export interface CustomerSummary {
  externalUserId: string;
  name: string;
  remark: string;
  avatar: string;
  corpName: string;
}

export interface StageView {
  computed: Stage;
  override: Stage | null;
  /** Who set the override and when (null without one). */
  overriddenBy: { userId: string; name: string; at: string } | null;
  effective: Stage;
}

export interface Profile {
  contact: { externalUserId: string; name: string; avatar: string; type: 1 | 2; corpName: string; position: string; phone: string | null };
  relation: { status: string; remark: string; description: string; state: string | null; channelName: string | null; addedAt: string | null };
  firstAddedBy: { userId: string; name: string; at: string } | null;
  stage: StageView;
  score: { value: number; reasons: Array<Reason & { points: number }> };
  groups: Array<{ chatId: string; name: string }>;
  /** Churn risk 0–100 from the daily/on-event scoring; null until first scored. Labels come in both languages. */
  risk: { score: number; reasons: Array<{ code: string; label: { zh: string; en: string }; points: number }>; computedAt: string } | null;
}

export interface TagGroup {
  groupId: string;
  groupName: string;
  tags: Array<{ tagId: string; name: string; selected: boolean }>;
}

export interface TimelineEvent {
  id: string;
  at: string;
  kind: string;
  userId: string | null;
  data: Record<string, unknown>;
}

export interface RepTask {
  _id: string;
  externalUserId: string;
  title: string;
  detail: string;
  dueAt: string;
  status: 'open' | 'snoozed' | 'done';
  /** In 我的待办 (GET /api/sidebar/tasks): whose task it is. */
  customer?: { name: string; avatar: string };
}

export interface Note {
  key: string;
  userId: string;
  text: string;
  at: string;
}

export interface Suggestion {
  key: string;
  category: string;
  title: string;
  text: string;
  attachments: Array<{ type: 'image' | 'link' | 'file' | 'miniprogram'; title: string; url: string; description: string }>;
  fit: number;
  reasons: Reason[];
  /** Variables with no value for this customer and no default: the text is not ready to send as is. */
  missing?: string[];
}

export interface GroupProfile {
  chatId: string;
  name: string;
  notice: string;
  status: string;
  owner: { userId: string; name: string };
  memberCount: number;
  members: Array<{ userId: string; type: 1 | 2; name: string }>;
  sopPlans: Array<{ id: string; name: string; templateId: string; enabled: boolean }>;
  activeSteps: string[];
}

