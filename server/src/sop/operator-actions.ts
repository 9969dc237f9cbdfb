import type { SopEngine } from './engine.ts';
import type { SopModels } from './models.ts';

/** A win-back the operator asked for that cannot start: answered as a 400 naming the plan. */
export class WinBackRefused extends Error {
  readonly status = 400;
  readonly expose = true;
}

/**
 * The SOP actions the console's lists offer outside the plan pages: enrolling a lost customer in a
 * win-back plan (once per alert, by key), and which group plans push to which customer groups.
 */
export function operatorActions(models: SopModels, engine: SopEngine) {
  return {
    async winBack(input: { planId: string; externalUserId: string; userId: string; key: string }): Promise<boolean> {
      const plan = await models.Plan.findById(input.planId);
      if (!plan) throw new WinBackRefused(`planId: no plan ${input.planId}`);
      if (plan.template.target !== 'contact') throw new WinBackRefused(`planId: "${plan.name}" pushes to customer groups, not to one customer`);
      if (!plan.enabled) throw new WinBackRefused(`planId: "${plan.name}" is switched off (enable it first)`);
      return engine.enrol(plan, { kind: 'contact', id: input.externalUserId, userId: input.userId }, input.key);
    },

    async plansPushingTo(chatIds: string[]): Promise<Map<string, Array<{ id: string; name: string }>>> {
      const plans = await models.Plan.find({ enabled: true, 'template.target': 'group' }, { name: 1, audience: 1 }).lean();
      const out = new Map<string, Array<{ id: string; name: string }>>();
      for (const chatId of chatIds) {
        // A group plan without chosen groups reaches every group.
        const pushing = plans.filter((p) => !p.audience?.groups?.length || p.audience.groups.includes(chatId));
        out.set(chatId, pushing.map((p) => ({ id: String(p._id), name: p.name })));
      }
      return out;
    },
  };
}

export type OperatorActions = ReturnType<typeof operatorActions>;
