import mongoose from 'mongoose';
import { z } from 'zod';
import { STAGES } from '../sop/index.ts';
import { ATTACHMENT_TYPES, USAGE_ACTIONS, type Script, type ScriptModels } from './models.ts';

const words = (max: number) => z.array(z.string().trim().min(1).max(max)).max(50).default([]);

/** What an operator may write into a script; the key comes from the URL. */
export const scriptInput = z
  .object({
    category: z.string().trim().min(1).max(30),
    title: z.string().trim().min(1).max(60),
    content: z.string().trim().min(1).max(2000),
    attachments: z
      .array(
        z
          .object({
            type: z.enum(ATTACHMENT_TYPES),
            title: z.string().max(100).default(''),
            url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
            description: z.string().max(300).default(''),
          })
          .strict(),
      )
      .max(9)
      .default([]),
    keywords: words(30),
    stages: z.array(z.enum(STAGES)).max(STAGES.length).default([]),
    tags: words(30),
    sopSteps: z.array(z.string().regex(/^[\w-]+\/[\w-]+$/, 'must be templateId/stepId')).max(50).default([]),
    faq: z.boolean().default(false),
    enabled: z.boolean().default(true),
    order: z.number().int().min(0).max(10_000).default(0),
  })
  .strict();
export type ScriptInput = z.input<typeof scriptInput>;

export const scriptKey = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 lowercase letters, digits, - or _');

const usageInput = z
  .object({
    key: z.string().min(8).max(64),
    scriptKey,
    action: z.enum(USAGE_ACTIONS),
    userId: z.string().max(64).nullable().default(null),
    externalUserId: z.string().max(128).nullable().default(null),
    chatId: z.string().max(128).nullable().default(null),
  })
  .strict();
export type UsageInput = z.input<typeof usageInput>;

export type ScriptView = Omit<Script, 'createdAt' | 'updatedAt'> & { updatedAt?: Date };

const VIEW = { _id: 0, __v: 0, createdAt: 0 } as const;

/** The script library shared by the sidebar, the bot and the console. */
export class ScriptLibrary {
  constructor(private readonly models: ScriptModels, private readonly now: () => Date = () => new Date()) {}

  async init(): Promise<void> {
    await Promise.all(Object.values(this.models).map((model) => model.init()));
  }

  list(options: { enabledOnly?: boolean; category?: string } = {}): Promise<ScriptView[]> {
    const filter: Record<string, unknown> = {};
    if (options.enabledOnly) filter.enabled = true;
    if (options.category !== undefined) filter.category = options.category;
    return this.models.Script.find(filter, VIEW).sort({ category: 1, order: 1, key: 1 }).lean<ScriptView[]>();
  }

  get(key: string): Promise<ScriptView | null> {
    return this.models.Script.findOne({ key }, VIEW).lean<ScriptView>();
  }

  /** Enabled scripts the bot may answer with. */
  faqEntries(): Promise<ScriptView[]> {
    return this.models.Script.find({ enabled: true, faq: true }, VIEW).sort({ order: 1, key: 1 }).lean<ScriptView[]>();
  }

  /** Creates or replaces a script; returns whether it was new. */
  async put(key: string, input: ScriptInput): Promise<{ created: boolean; script: ScriptView }> {
    const body = scriptInput.parse(input);
    const result = await this.models.Script.updateOne({ key: scriptKey.parse(key) }, { $set: body }, { upsert: true });
    return { created: result.upsertedCount === 1, script: (await this.get(key))! };
  }

  /** Adds scripts that do not exist yet, leaving operators' edits alone (demo seed, first start). */
  async seed(scripts: Array<ScriptInput & { key: string }>): Promise<number> {
    let added = 0;
    for (const { key, ...input } of scripts) {
      const result = await this.models.Script.updateOne({ key }, { $setOnInsert: scriptInput.parse(input) }, { upsert: true });
      added += result.upsertedCount;
    }
    return added;
  }

  async remove(key: string): Promise<boolean> {
    return (await this.models.Script.deleteOne({ key })).deletedCount === 1;
  }

  /** Records a use once per key; returns false when the key was seen before (a retried request). */
  async recordUsage(input: UsageInput): Promise<boolean> {
    const usage = usageInput.parse(input);
    const result = await this.models.ScriptUsage.updateOne(
      { key: usage.key },
      { $setOnInsert: { ...usage, at: this.now() } },
      { upsert: true },
    );
    return result.upsertedCount === 1;
  }

  /** Uses per script and action in [from, to): what the analytics show as 话术使用. */
  usageCounts(range: { from: Date; to: Date }): Promise<Array<{ scriptKey: string; action: string; count: number }>> {
    return this.models.ScriptUsage.aggregate<{ scriptKey: string; action: string; count: number }>([
      { $match: { at: mongoose.trusted({ $gte: range.from, $lt: range.to }) } },
      { $group: { _id: { scriptKey: '$scriptKey', action: '$action' }, count: { $sum: 1 } } },
      { $project: { _id: 0, scriptKey: '$_id.scriptKey', action: '$_id.action', count: 1 } },
      { $sort: { count: -1 } },
    ]);
  }
}
