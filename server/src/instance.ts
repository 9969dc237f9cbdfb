/**
 * What this instance runs among several on one store: its role (ROLE), and the leases that make the
 * instance-wide singletons — the bot, the SOP minute tick, the customer-index refresh — run on one
 * instance at a time. Part of the composition root (main.ts); modules only see `isLeader` functions.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { botLeadership, type Bot } from './bot/index.ts';
import type { Config } from './config/index.ts';
import { createLeases, LEASES, type Leases, type LeaseView } from './leases/index.ts';
import type { HealthProbe, Logger } from './observability/index.ts';
import { rolePlan, type RolePlan } from './roles.ts';

export interface InstanceLeases {
  plan: RolePlan;
  leases: Leases;
  leadsSopTick(): boolean;
  leadsCustomerIndex(): boolean;
  /** Part `instance` of /healthz: role, holder id, and who holds each lease. */
  probe: HealthProbe;
}

export function instanceLeases(
  config: Config,
  deps: { connection: Connection; logger: Logger; bot: Bot | null; botStopTimeoutMs: number; now?: () => number },
): InstanceLeases {
  const plan = rolePlan(config.role);
  const leases = createLeases({
    connection: deps.connection,
    // The random part keeps two processes with one INSTANCE_NAME (or three systems in one test) apart.
    holder: `${config.instance.name}/${randomUUID().slice(0, 8)}`,
    leaseMs: config.instance.leaseMs,
    logger: deps.logger,
    ...(deps.now ? { now: deps.now } : {}),
  });
  // A web instance runs no ticks: it takes none of these leases.
  const sopTick = plan.runsWork ? leases.lease(LEASES.sopTick) : null;
  const customerIndex = plan.runsWork ? leases.lease(LEASES.customerIndex) : null;
  const { bot } = deps;
  if (bot) {
    const standby = (view: LeaseView) => {
      if (!view.held) bot.status.standby(view.self, view.holder);
    };
    bot.status.standby(leases.holder, null);
    leases.lease(
      LEASES.bot,
      plan.runsWork
        ? { once: true, leads: botLeadership(bot, { instance: leases.holder, stopTimeoutMs: deps.botStopTimeoutMs, logger: deps.logger }), onChange: standby }
        : { observe: true, onChange: standby },
    );
  }
  return {
    plan,
    leases,
    leadsSopTick: () => sopTick?.isLeader() ?? false,
    leadsCustomerIndex: () => customerIndex?.isLeader() ?? false,
    probe: {
      name: 'instance',
      critical: false,
      check: () => ({
        ok: true,
        role: config.role,
        holder: leases.holder,
        leases: Object.fromEntries(leases.all().map((lease) => [lease.name, { held: lease.view().held, holder: lease.view().holder }])),
      }),
    },
  };
}
