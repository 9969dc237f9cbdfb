import { contactWayRoutes } from './contact-way.ts';
import { externalContactRoutes } from './external-contact.ts';
import { groupChatRoutes } from './group-chat.ts';
import { groupWelcomeRoutes } from './group-welcome.ts';
import { identityRoutes } from './identity.ts';
import { massSendRoutes } from './mass-send.ts';
import { mediaRoutes } from './media.ts';
import { messageRoutes } from './message.ts';
import type { Route } from './route.ts';
import { tagRoutes } from './tags.ts';

/** Every qyapi path the simulator answers, relative to /cgi-bin. */
export const routes: ReadonlyMap<string, Route> = new Map(
  Object.entries({
    ...identityRoutes,
    ...externalContactRoutes,
    ...tagRoutes,
    ...groupChatRoutes,
    ...groupWelcomeRoutes,
    ...contactWayRoutes,
    ...massSendRoutes,
    ...mediaRoutes,
    ...messageRoutes,
  }),
);
