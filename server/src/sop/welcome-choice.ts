import type { HydratedDocument } from 'mongoose';
import type { Plan } from './models.ts';

type ContactAddedPlan = HydratedDocument<Plan>;

const sendsWelcome = (plan: ContactAddedPlan) => plan.template.steps[0]?.type === 'send_welcome';
const namesChannel = (plan: ContactAddedPlan) => plan.template.trigger.type === 'contact_added' && plan.template.trigger.channels.length > 0;

/**
 * WeCom issues one welcome code per add event and accepts it once, so of the plans one event
 * enrols, exactly one sends the welcome: an operator's plan before the built-in 新客欢迎, a plan
 * naming the event's channel before one for every channel, then the most recently created. The
 * others enrol without the code (their welcome step records no_welcome_code and the journey goes
 * on), except the built-in plan, which stays out once an operator's plan welcomes: its next-day
 * guide would repeat what the operator's journey says.
 */
export function resolveWelcome(plans: ContactAddedPlan[]): { enrol: ContactAddedPlan[]; welcomer: ContactAddedPlan | null } {
  const rank = (p: ContactAddedPlan) => [p.builtIn ? 0 : 1, namesChannel(p) ? 1 : 0, p.createdAt.getTime()];
  const welcomer =
    plans.filter(sendsWelcome).sort((a, b) => {
      const [ra, rb] = [rank(a), rank(b)];
      return (rb[0]! - ra[0]!) || (rb[1]! - ra[1]!) || (rb[2]! - ra[2]!);
    })[0] ?? null;
  const enrol = welcomer && !welcomer.builtIn ? plans.filter((p) => !(p.builtIn && sendsWelcome(p))) : plans;
  return { enrol, welcomer };
}
