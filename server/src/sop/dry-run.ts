import type { HydratedDocument } from 'mongoose';
import type { Target } from './engine.ts';
import { planSettings, type Plan, type SopModels } from './models.ts';
import type { StepRunner } from './steps.ts';
import { applyDelay, localDay, quietUntil } from './time.ts';

export interface DryRunStep {
  stepId: string;
  type: string;
  dueAt: Date;
  /** When it would really go out: later than dueAt when quiet hours hold it back. */
  sendsAt: Date;
  text?: string;
  missingVariables?: string[];
  attachments?: number;
  notes: string[];
}

/**
 * Who would receive what, and when, if the plan started now — nothing is sent or stored. Branches are
 * shown as decision points and the walk follows the `then` path.
 */
export async function dryRun(input: { plan: HydratedDocument<Plan>; targets: Target[]; runner: StepRunner; models: SopModels; now: Date }) {
  const { plan, runner, now } = input;
  const template = plan.template;
  return Promise.all(
    input.targets.map(async (target) => {
      const enrollment = { targetKind: target.kind, targetId: target.id, userId: target.userId };
      const sentToday = await input.models.Send.countDocuments({ targetId: target.id, day: localDay(now, plan.timeZone), marketing: true });
      const steps: DryRunStep[] = [];
      let at = now;
      for (let i = 0; i < template.steps.length; ) {
        const step = template.steps[i]!;
        const dueAt = applyDelay(at, step.after, plan.timeZone);
        const notes: string[] = [];
        let sendsAt = dueAt;
        let rendered: Awaited<ReturnType<StepRunner['render']>> | undefined;
        if ('content' in step) {
          rendered = await runner.render({ plan, enrollment, now: dueAt }, step.content);
          if (step.type !== 'send_welcome') {
            const { quietHours } = planSettings(plan);
            const quietEnd = quietUntil(dueAt, quietHours, plan.timeZone);
            if (quietEnd) {
              sendsAt = quietEnd;
              notes.push(`quiet hours ${quietHours.start}–${quietHours.end}: waits until then`);
            }
          }
          if (step.type === 'send_welcome') notes.push('sent with the WelcomeCode of the add event, within 20 s');
          if (step.type === 'mass_send') notes.push('WeCom creates a task the rep confirms in the client');
          if (step.type === 'mass_send' && template.marketing && i === 0 && sentToday > 0) notes.push(`already ${sentToday} marketing message(s) today: may hit the frequency cap`);
        }
        if (step.type === 'branch') notes.push(`decision: ${JSON.stringify(step.if)} → ${step.then ?? 'end'} / else ${step.else ?? 'end'}; shown following "then"`);
        steps.push({
          stepId: step.id,
          type: step.type,
          dueAt,
          sendsAt,
          ...(rendered ? { text: rendered.text, missingVariables: rendered.missing, attachments: rendered.attachments.length } : {}),
          notes,
        });
        at = dueAt;
        if (step.type === 'branch') {
          const next = step.then ? template.steps.findIndex((s) => s.id === step.then) : -1;
          if (next < 0) break;
          i = next;
        } else i++;
      }
      return { target, steps };
    }),
  );
}
