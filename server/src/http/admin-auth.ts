import { timingSafeEqual } from 'node:crypto';
import type { Next } from 'koa';
import type { AppContext } from './context.ts';

/**
 * Guards /api/admin/*: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 * (WeCom sign-in for admins arrives with the console.)
 */
export function requireAdmin(adminToken: string) {
  const expected = Buffer.from(adminToken, 'utf8');
  return async (ctx: AppContext, next: Next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
    if (!match) {
      ctx.set('WWW-Authenticate', 'Bearer realm="admin"');
      ctx.throw(401, 'admin API: send Authorization: Bearer <ADMIN_TOKEN>');
    }
    const given = Buffer.from(match[1]!, 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) ctx.throw(403, 'admin API: wrong token');
    await next();
  };
}
