import { z } from 'zod';
import { variablesIn } from './content.ts';

/**
 * The SOP template format (sop-templates/*.yaml). A template is a journey: a trigger that enrols a
 * target (a contact, or a customer group), then steps that run in order — each after a delay —
 * unless a branch sends the journey elsewhere or an exit condition ends it. Mautic's campaign
 * model (decision / action / condition) is the inspiration; the words here are the operators'.
 */

const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lowercase letters, digits, - or _ (at most 64)');
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:mm');
const localDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$/, 'must be a local date and time YYYY-MM-DDTHH:mm');

export const attachmentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('link'), title: z.string().min(1), url: z.url(), picUrl: z.url().optional(), desc: z.string().optional() }).strict(),
  z.object({ type: z.literal('image'), url: z.url() }).strict(),
  z.object({
    type: z.literal('miniprogram'),
    title: z.string().min(1),
    appId: z.string().min(1),
    page: z.string().min(1),
    picUrl: z.url().optional(),
  }).strict(),
]);

/** Text with {{variables}} (TEMPLATE_VARIABLES in content.ts: name, rep, company, group, date). */
export const contentSchema = z
  .object({
    text: z.string().min(1).max(4000),
    attachments: z.array(attachmentSchema).max(9, 'WeCom accepts at most 9 attachments').default([]),
  })
  .strict();

/** When a step runs, relative to the previous one (or to enrolment for the first). */
export const delaySchema = z
  .object({
    days: z.number().int().min(0).max(365).default(0),
    hours: z.number().int().min(0).max(23).default(0),
    minutes: z.number().int().min(0).max(59).default(0),
    /** Snap to this local time of day (in the plan's time zone) on the day the delay lands. */
    at: clock.optional(),
  })
  .strict();

export const conditionSchema = z.union([
  z.object({ replied: z.boolean() }).strict(),
  z.object({ hasTag: z.string().min(1) }).strict(),
  z.object({ bought: z.boolean() }).strict(),
  z.object({ stage: z.enum(['new', 'first_purchase', 'repeat', 'dormant', 'churn_risk']) }).strict(),
  /** The lead score (0–100, as the sidebar shows it) within bounds: `{ score: { gte: 60 } }`. */
  z
    .object({
      score: z
        .object({ gte: z.number().min(0).max(100).optional(), lte: z.number().min(0).max(100).optional() })
        .strict()
        .refine((b) => b.gte !== undefined || b.lte !== undefined, 'give gte, lte or both')
        .refine((b) => b.gte === undefined || b.lte === undefined || b.gte <= b.lte, 'gte must not exceed lte'),
    })
    .strict(),
]);

const stepBase = {
  id,
  name: z.string().min(1).max(60).optional(),
  after: delaySchema.optional(),
};

export const stepSchema = z.discriminatedUnion('type', [
  /** WeCom send_welcome_msg with the add event's WelcomeCode (only valid 20 s, once). */
  z
    .object({
      ...stepBase,
      type: z.literal('send_welcome'),
      content: contentSchema,
      /**
       * Sent instead of content.text when the contact's name is not known in time (WeCom slow near the
       * end of the 20 s window). Without it the welcome is held back, unless the text gives {{name}} a default ({{name|}}).
       */
      fallbackText: z
        .string()
        .min(1)
        .max(4000)
        .refine((text) => !variablesIn(text).includes('name'), 'fallbackText is the name-free welcome: it cannot use {{name}}')
        .optional(),
    })
    .strict(),
  /** WeCom add_msg_template: creates a task the rep confirms in the client; tracked until confirmed. */
  z.object({ ...stepBase, type: z.literal('mass_send'), content: contentSchema }).strict(),
  /** Through the customer bot (personal WeChat), to the contact or the room. */
  z.object({ ...stepBase, type: z.literal('bot_send'), content: contentSchema }).strict(),
  z
    .object({
      ...stepBase,
      type: z.literal('tag'),
      add: z.array(z.string().min(1)).default([]),
      remove: z.array(z.string().min(1)).default([]),
    })
    .strict(),
  /** A task shown to the rep in the sidebar (e.g. a renewal call): what WeCom cannot automate. */
  z
    .object({
      ...stepBase,
      type: z.literal('rep_task'),
      title: z.string().min(1).max(100),
      detail: z.string().max(1000).optional(),
      dueInDays: z.number().int().min(0).max(90).default(1),
    })
    .strict(),
  /** Continues at `then` or `else` (a later step id; absent = end the journey). */
  z
    .object({
      ...stepBase,
      type: z.literal('branch'),
      if: conditionSchema,
      then: id.optional(),
      else: id.optional(),
    })
    .strict(),
]);

export const triggerSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('contact_added'),
      /** Only contacts arriving through these channel states / carrying these tags (names). */
      channels: z.array(z.string().min(1).max(30)).default([]),
      tags: z.array(z.string().min(1)).default([]),
    })
    .strict(),
  z.object({ type: z.literal('contact_tagged'), tag: z.string().min(1) }).strict(),
  z.object({ type: z.literal('contact_silent'), days: z.number().int().min(1).max(365) }).strict(),
  z.object({ type: z.literal('order_placed') }).strict(),
  /**
   * The contact's churn risk score (churn/ module) rose to `threshold` or above: once per crossing,
   * so a recomputation never enrols twice, and falling below then crossing again is a new journey.
   */
  z
    .object({
      type: z.literal('churn_risk'),
      threshold: z.number({ error: 'threshold must be a number from 1 to 100' }).int('threshold must be a whole number').min(1, 'threshold must be at least 1').max(100, 'threshold must be at most 100 (the score is 0–100)').default(60),
    })
    .strict(),
  /** WeCom del_follow_user: the customer deleted the rep (the relation became lost). */
  z.object({ type: z.literal('contact_lost') }).strict(),
  /**
   * A calendar schedule over the plan's audience, in the plan's time zone: repeating (`cron`, 5
   * fields) or once (`at`, a local date-time such as a one-off group push). Exactly one: rules.ts.
   */
  z.object({ type: z.literal('schedule'), cron: z.string().min(9).optional(), at: localDateTime.optional() }).strict(),
]);

/** No customer messages in this local window (it may wrap midnight); a plan can override its template's. */
export const quietHoursSchema = z.object({ start: clock, end: clock }).strict();
export const catchUpSchema = z
  .object({ policy: z.enum(['run', 'skip']).default('run'), maxLatenessHours: z.number().min(0).max(720).default(24) })
  .strict();

/**
 * How often one target may start the journey: once ever, at most once per `days`, or on every
 * trigger. Absent: once for plans entered by being added or tagged, every time otherwise.
 */
export const reentrySchema = z
  .object({ mode: z.enum(['once', 'per_days', 'every_time']), days: z.number().int().min(1).max(3650).nullable().optional() })
  .strict()
  .refine((r) => r.mode !== 'per_days' || typeof r.days === 'number', { path: ['days'], message: '“每 N 天一次”需要填写天数（1–3650）' });

export const templateSchema = z
  .object({
    id,
    name: z.string().min(1).max(60),
    description: z.string().max(500).default(''),
    /** Who the journey runs for: a contact (1:1) or a customer group (group pushes). */
    target: z.enum(['contact', 'group']).default('contact'),
    trigger: triggerSchema,
    steps: z.array(stepSchema).min(1),
    /** Ends the journey for a target as soon as this holds (e.g. bought, for a win-back ladder). */
    exitWhen: conditionSchema.optional(),
    /** Marketing steps count against the per-contact frequency cap; service steps (welcome, tasks) do not. */
    marketing: z.boolean().default(true),
    quietHours: quietHoursSchema.default({ start: '22:00', end: '08:00' }),
    /** Jobs that came due while the server was down: run them late, or skip those older than maxLatenessHours. */
    catchUp: catchUpSchema.default({ policy: 'run', maxLatenessHours: 24 }),
    reentry: reentrySchema.optional(),
  })
  .strict();

/** A journey a plan carries or an operator writes inline: a template whose id is optional. */
export const journeySchema = templateSchema.partial({ id: true });

export type SopTemplate = z.infer<typeof templateSchema>;
export type SopJourney = z.infer<typeof journeySchema>;
export type SopStep = z.infer<typeof stepSchema>;
export type ReentryRule = z.infer<typeof reentrySchema>;
export type SopTrigger = z.infer<typeof triggerSchema>;
export type SopCondition = z.infer<typeof conditionSchema>;
export type SopContent = z.infer<typeof contentSchema>;
export type SopDelay = z.infer<typeof delaySchema>;
