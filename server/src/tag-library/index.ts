import type { Connection } from 'mongoose';
import type { ContactModels, ContactPool } from '../contacts/index.ts';
import type { Guard, HttpModule } from '../http/index.ts';
import type { Logger } from '../observability/index.ts';
import type { WecomClient } from '../wecom/index.ts';
import { registerBulkTagModels } from './bulk-models.ts';
import { BulkTagging, type BulkWorkerTuning, type ResolveAudience } from './bulk-tagging.ts';
import { TagLibrary } from './library.ts';
import { tagLibraryModule } from './routes.ts';

export { BulkTagging, type BulkTagJobView, type BulkTagJobStatus, type ResolveAudience, type BulkWorkerTuning } from './bulk-tagging.ts';
export { registerBulkTagModels, type AudienceTarget, type BulkTagModels } from './bulk-models.ts';
export { TagLibrary, TagLibraryError, type TagView } from './library.ts';
export { tagLibraryModule } from './routes.ts';

export interface TagLibraryDeps {
  connection: Connection;
  contacts: Pick<ContactModels, 'Tag' | 'FollowRelation'>;
  pool: Pick<ContactPool, 'upsertTags' | 'removeTags' | 'removeTagGroup' | 'changeFollowTags'>;
  client: Pick<WecomClient, 'tags'>;
  /** The customers module's audience (injected: the tag library does not depend on how segments are evaluated). */
  resolveAudience: ResolveAudience;
  adminGuard: Guard;
  logger: Logger;
  now?: () => Date;
  worker?: BulkWorkerTuning;
}

export interface TagLibraryModule {
  library: TagLibrary;
  bulk: BulkTagging;
  http: HttpModule;
}

/** The tag library (written to WeCom, mirrored) and bulk tagging; the caller starts and stops `bulk`. */
export async function createTagLibrary(deps: TagLibraryDeps): Promise<TagLibraryModule> {
  const library = new TagLibrary({ contacts: deps.contacts, pool: deps.pool, client: deps.client });
  const bulk = new BulkTagging({
    models: registerBulkTagModels(deps.connection),
    pool: deps.pool,
    client: deps.client,
    resolveAudience: deps.resolveAudience,
    logger: deps.logger.child({ module: 'bulk-tags' }),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.worker ? { worker: deps.worker } : {}),
  });
  await bulk.init();
  return { library, bulk, http: tagLibraryModule({ library, bulk, contacts: deps.contacts, adminGuard: deps.adminGuard, now: deps.now ?? (() => new Date()) }) };
}
