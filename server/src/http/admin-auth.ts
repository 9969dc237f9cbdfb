import { timingSafeEqual } from 'node:crypto';
import type { Next } from 'koa';
import type { AppContext } from './context.ts';
import type { Sessions } from './sessions.ts';

/** Constant-time equality of two secrets (tokens, nonces), so a mismatch takes as long wherever it is. */
export function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Middleware that lets a request through or answers 401/403. */
export type Guard = (ctx: AppContext, next: Next) => Promise<unknown>;

/**
 * Guards /api/admin/*: `Authorization: Bearer <ADMIN_TOKEN>` compared in constant time, or (for the
 * console in a browser) a signed admin session cookie. A Bearer header, when sent, must be right.
 */
export function requireAdmin(adminToken: string, sessions?: Sessions): Guard {
  return async (ctx: AppContext, next: Next) => {
    const header = ctx.get('authorization');
    if (!header) {
      const session = sessions?.read(ctx, 'admin');
      if (!session) {
        ctx.set('WWW-Authenticate', 'Bearer realm="admin"');
        return ctx.throw(401, 'admin API: sign in to the console or send Authorization: Bearer <ADMIN_TOKEN>');
      }
      ctx.state.adminId = session.userId;
      return next();
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) ctx.throw(401, 'admin API: send Authorization: Bearer <ADMIN_TOKEN>');
    if (!sameSecret(adminToken, match[1]!)) ctx.throw(403, 'admin API: wrong token');
    ctx.state.adminId = 'token';
    await next();
  };
}

/** Guards the sidebar API: a rep session cookie, else 401. The rep's userid lands in `ctx.state.repId`. */
export function requireRep(sessions: Sessions): Guard {
  return async (ctx: AppContext, next: Next) => {
    const session = sessions.read(ctx, 'rep');
    if (!session) return ctx.throw(401, 'sidebar: no rep session (open the sidebar from WeCom to sign in)');
    ctx.state.repId = session.userId;
    await next();
  };
}
