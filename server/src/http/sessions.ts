import type { AppContext } from './context.ts';

/**
 * A small JSON value in a signed, httpOnly, SameSite=Lax cookie (Koa signs it with `app.keys`): a
 * forged or edited cookie reads as absent. `null` clears it.
 */
export function setSignedCookie(ctx: AppContext, name: string, value: unknown, maxAgeMs: number): void {
  if (value === null) {
    ctx.cookies.set(name, null, { signed: true, path: '/' });
    return;
  }
  ctx.cookies.set(name, Buffer.from(JSON.stringify(value)).toString('base64url'), {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    path: '/',
    maxAge: maxAgeMs,
  });
}

/** The JSON value of a signed cookie; null when absent, forged or not JSON. */
export function readSignedCookie(ctx: AppContext, name: string): unknown {
  const raw = ctx.cookies.get(name, { signed: true });
  if (!raw) return null;
  try {
    return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

/** Who a signed cookie says the visitor is: a rep using the sidebar, or an admin using the console. */
export type SessionKind = 'rep' | 'admin';

export interface Session {
  kind: SessionKind;
  userId: string;
  /** Expiry, ms since the epoch: a stolen cookie stops working even if the browser keeps it. */
  exp: number;
}

const COOKIE = { rep: 'scrm_rep', admin: 'scrm_admin' } as const;

/**
 * Sessions in signed, httpOnly cookies (Koa signs them with `app.keys`, set from SESSION_SECRET):
 * nothing to store server-side, and a forged or edited cookie is simply not read.
 */
export class Sessions {
  constructor(private readonly options: { ttlMs: number; now?: () => number }) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  start(ctx: AppContext, kind: SessionKind, userId: string): Session {
    const session: Session = { kind, userId, exp: this.now() + this.options.ttlMs };
    setSignedCookie(ctx, COOKIE[kind], session, this.options.ttlMs);
    return session;
  }

  read(ctx: AppContext, kind: SessionKind): Session | null {
    const session = readSignedCookie(ctx, COOKIE[kind]) as Partial<Session> | null;
    if (session?.kind !== kind || typeof session.userId !== 'string' || typeof session.exp !== 'number') return null;
    return session.exp > this.now() ? (session as Session) : null;
  }

  end(ctx: AppContext, kind: SessionKind): void {
    setSignedCookie(ctx, COOKIE[kind], null, 0);
  }
}
