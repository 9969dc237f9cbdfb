import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readSignedCookie, sameSecret, setSignedCookie, type AppContext, type HttpModule, type SessionKind, type Sessions } from '../http/index.ts';
import type { Logger } from '../observability/index.ts';
import type { WecomClient } from '../wecom/index.ts';

export interface AuthDeps {
  sessions: Sessions;
  client: Pick<WecomClient, 'auth'>;
  corp: { corpId: string; agentId: string; oauthBase: string };
  /** Origin WeCom redirects back to (its trusted domain); null = the request's own origin (demo, tests). */
  publicUrl: string | null;
  adminToken: string;
  /** WeCom userids allowed into the console by WeCom sign-in. */
  adminUserIds: string[];
  /** Demo mode only: the reps one may sign in as without WeCom. */
  demoReps: string[] | null;
  logger: Logger;
}

const STATE_COOKIE = 'scrm_oauth';
const STATE_TTL_MS = 10 * 60_000;
const kind = z.enum(['rep', 'admin']);
/** Only same-site paths: an open redirect would let a phishing link borrow our sign-in. */
const nextPath = z
  .string()
  .regex(/^\/(?![/\\])[^\s]*$/, 'must be a path on this site, such as /sidebar/')
  .max(500);
const startQuery = z.object({ as: kind.default('rep'), next: nextPath.optional() });
const callbackQuery = z.object({ code: z.string().min(1).max(512), state: z.string().min(1).max(64) });
const demoBody = z.object({ as: kind.default('rep'), userId: z.string().min(1).max(64).optional() });
const tokenBody = z.object({ token: z.string().min(1).max(512) });

/**
 * Sign-in for the sidebar (reps) and the console (admins): WeCom OAuth snsapi_base (redirect →
 * code → auth/getuserinfo → userid), the admin token for the console's login form, and in demo
 * mode a direct sign-in as a demo rep. Each ends in a signed httpOnly session cookie.
 */
export function authModule(deps: AuthDeps): HttpModule {
  const log = deps.logger.child({ module: 'auth' });
  const defaultNext: Record<SessionKind, string> = { rep: '/sidebar/', admin: '/console/' };

  return {
    name: 'auth',
    mount(router) {
      router.get('/auth/wecom', (ctx) => {
        const query = startQuery.parse(ctx.query);
        const nonce = randomBytes(16).toString('base64url');
        const pending = { nonce, as: query.as, next: query.next ?? defaultNext[query.as] };
        setSignedCookie(ctx, STATE_COOKIE, pending, STATE_TTL_MS);
        const authorize = new URL('/connect/oauth2/authorize', deps.corp.oauthBase);
        authorize.searchParams.set('appid', deps.corp.corpId);
        authorize.searchParams.set('redirect_uri', `${deps.publicUrl ?? `${ctx.protocol}://${ctx.host}`}/auth/wecom/callback`);
        authorize.searchParams.set('response_type', 'code');
        authorize.searchParams.set('scope', 'snsapi_base');
        authorize.searchParams.set('state', nonce);
        authorize.searchParams.set('agentid', deps.corp.agentId);
        ctx.redirect(`${authorize.toString()}#wechat_redirect`);
      });

      router.get('/auth/wecom/callback', async (ctx) => {
        const query = callbackQuery.parse(ctx.query);
        const pending = readPending(ctx);
        setSignedCookie(ctx, STATE_COOKIE, null, 0);
        if (!pending || !sameSecret(pending.nonce, query.state)) {
          return ctx.throw(400, 'sign-in: the state does not match this browser (start again from the sidebar or console)');
        }
        const identity = await deps.client.auth.getUserInfo(query.code);
        if (!identity.userid) return ctx.throw(403, 'sign-in: only members of this WeCom corp can sign in');
        if (pending.as === 'admin' && !deps.adminUserIds.includes(identity.userid)) {
          log.warn({ userId: identity.userid }, 'console sign-in refused: not in ADMIN_USERIDS');
          ctx.throw(403, 'sign-in: this WeCom account is not an admin of the console (ADMIN_USERIDS)');
        }
        deps.sessions.start(ctx, pending.as, identity.userid);
        log.info({ userId: identity.userid, as: pending.as }, 'signed in through WeCom');
        ctx.redirect(pending.next);
      });

      router.post('/auth/token', (ctx) => {
        const { token } = tokenBody.parse(ctx.request.body);
        if (!sameSecret(deps.adminToken, token)) {
          log.warn('console sign-in refused: wrong admin token');
          ctx.throw(403, 'sign-in: wrong admin token');
        }
        deps.sessions.start(ctx, 'admin', 'token');
        ctx.status = 204;
      });

      router.post('/auth/demo', (ctx) => {
        const reps = deps.demoReps;
        if (!reps) return ctx.throw(404, 'demo sign-in exists only in demo mode');
        const body = demoBody.parse(ctx.request.body ?? {});
        const userId = body.userId ?? reps[0];
        if (!userId || !reps.includes(userId)) return ctx.throw(400, `userId: not a demo rep (one of ${reps.join(', ')})`);
        deps.sessions.start(ctx, body.as, userId);
        ctx.body = { as: body.as, userId };
      });

      router.post('/auth/logout', (ctx) => {
        const { as } = z.object({ as: kind.default('rep') }).parse(ctx.query);
        deps.sessions.end(ctx, as);
        ctx.status = 204;
      });

      router.get('/auth/me', (ctx) => {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = {
          rep: deps.sessions.read(ctx, 'rep')?.userId ?? null,
          admin: deps.sessions.read(ctx, 'admin')?.userId ?? null,
          demoMode: deps.demoReps !== null,
          demoReps: deps.demoReps ?? [],
        };
      });
    },
  };
}

const pendingSignIn = z.object({ nonce: z.string(), as: kind, next: nextPath });

function readPending(ctx: AppContext): z.infer<typeof pendingSignIn> | null {
  const parsed = pendingSignIn.safeParse(readSignedCookie(ctx, STATE_COOKIE));
  return parsed.success ? parsed.data : null;
}
