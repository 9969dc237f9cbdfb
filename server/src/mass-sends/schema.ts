import mongoose from 'mongoose';
import { z } from 'zod';
import { contentSchema, quietHoursSchema, variablesIn } from '../sop/index.ts';

/** Who a 群发 reaches: a saved segment, an ad-hoc customer filter (the customers module's), or chosen groups. */
export type MassSendAudience = { segmentId: string } | { filter: Record<string, unknown> } | { groups: string[] };

/** The customers-module targets resolveAudience accepts (a group audience is resolved here). */
export type CustomerAudience = Exclude<MassSendAudience, { groups: string[] }>;

const audienceSchema = z
  .object({
    segmentId: z.string().min(1).max(64).optional(),
    filter: z.record(z.string(), z.unknown()).optional(),
    groups: z.array(z.string().min(1).max(128)).min(1).max(2_000).optional(),
  })
  .strict()
  .refine((a) => [a.segmentId, a.filter, a.groups].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of segmentId, filter or groups',
  })
  .transform((a): MassSendAudience => (a.groups ? { groups: [...new Set(a.groups)] } : a.filter ? { filter: a.filter } : { segmentId: a.segmentId! }));

const sendAt = z.iso.datetime({ offset: true }).nullable().optional();

/**
 * One WeCom task carries one text to all of a rep's customers (or groups), so only variables that
 * are the same for all of them can be filled: a {{name}} would go out empty to everyone.
 */
const SHARED_VARIABLES = new Set(['rep', 'date']);
const massContent = contentSchema.superRefine((content, ctx) => {
  const personal = variablesIn(content.text).filter((v) => !SHARED_VARIABLES.has(v));
  if (personal.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['text'],
      message: `${personal.map((v) => `{{${v}}}`).join(', ')} cannot be used in a 群发: every recipient of a rep's task gets the same text (use {{rep}} or {{date}}, or an SOP step for personal text)`,
    });
  }
});

export const previewBody = z
  .object({
    content: massContent,
    audience: audienceSchema,
    sendAt,
    quietHours: quietHoursSchema.optional(),
  })
  .strict();

export const createBody = previewBody.extend({ name: z.string().trim().min(1).max(60) }).strict();

export type PreviewBody = z.infer<typeof previewBody>;

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const objectId = z.string().refine((s) => mongoose.isValidObjectId(s), 'not a mass send id');
