import type { AppContext } from './context.ts';

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
    ctx.cookies.set(COOKIE[kind], Buffer.from(JSON.stringify(session)).toString('base64url'), {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      path: '/',
      maxAge: this.options.ttlMs,
    });
    return session;
  }

  read(ctx: AppContext, kind: SessionKind): Session | null {
    const raw = ctx.cookies.get(COOKIE[kind], { signed: true });
    if (!raw) return null;
    try {
      const session = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Session>;
      if (session.kind !== kind || typeof session.userId !== 'string' || typeof session.exp !== 'number') return null;
      return session.exp > this.now() ? (session as Session) : null;
    } catch {
      return null;
    }
  }

  end(ctx: AppContext, kind: SessionKind): void {
    ctx.cookies.set(COOKIE[kind], null, { signed: true, path: '/' });
  }
}
