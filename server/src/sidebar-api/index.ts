import type { Connection } from 'mongoose';
import type { ContactModels, ContactPool } from '../contacts/index.ts';
import { requireRep, type HttpModule, type Sessions } from '../http/index.ts';
import type { ScriptLibrary } from '../script-library/index.ts';
import type { SopModels } from '../sop/index.ts';
import type { Replies } from '../replies/index.ts';
import type { RepTaskModel } from '../tasks/index.ts';
import { RepNames, type ContactTagged, type WecomClient } from '../wecom/index.ts';
import { Catalog } from './catalog.ts';
import { registerSidebarModels } from './models.ts';
import { mountSidebarRoutes } from './routes.ts';
import type { ReadDeps } from './customer.ts';

export { jsapiSignature } from './jssdk.ts';
export { scoreContact, type ScoreFacts } from './score.ts';
export { rankScripts, type FitFacts } from './ranking.ts';
export { registerSidebarModels, type SidebarModels } from './models.ts';
export { setStageOverride, type ChurnRiskView } from './customer.ts';

export interface SidebarApiDeps {
  connection: Connection;
  sessions: Sessions;
  contacts: ContactModels;
  pool: ContactPool;
  tasks: RepTaskModel;
  scripts: ScriptLibrary;
  sop: SopModels;
  client: Pick<WecomClient, 'tags' | 'jsapi' | 'user'>;
  corp: { corpId: string; agentId: string };
  /** Tags a rep adds here reach contact_tagged SOPs (WeCom does not call back for API changes). */
  onContactTagged?: (event: ContactTagged) => Promise<void>;
  /** Where a rep's 客户已回复 is recorded (the replies module). */
  replies: Pick<Replies, 'markedByRep'>;
  /** The churn module's score for the customer card (main.ts); absent = risk null in the answer. */
  churnRisk?: ReadDeps['churnRisk'];
  now?: () => Date;
}

/**
 * The API behind the sales rep sidebar, under /api/sidebar/: the customer in front of the rep
 * (profile, stage, score, tags, timeline, tasks, notes), the group chat, and suggested scripts.
 * Every route needs a rep session, and a rep reaches only the customers they follow.
 */
export async function createSidebarApi(deps: SidebarApiDeps): Promise<HttpModule> {
  const sidebar = registerSidebarModels(deps.connection);
  await Promise.all(Object.values(sidebar).map((model) => model.init()));
  const repNames = new RepNames((userId) => deps.client.user.get(userId));
  return {
    name: 'sidebar-api',
    mount(router) {
      mountSidebarRoutes(router, {
        ...deps,
        guard: requireRep(deps.sessions),
        sidebar,
        repNames,
        catalog: new Catalog(deps.contacts),
        now: deps.now ?? (() => new Date()),
      });
    },
  };
}
