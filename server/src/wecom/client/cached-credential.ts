import type { Clock } from './clock.ts';

export interface Credential {
  value: string;
  /** Seconds, as WeCom reports it (7200 for tokens and tickets). */
  expiresIn: number;
}

/** Refresh this long before WeCom's stated expiry, so a value never expires in flight. */
const EARLY_REFRESH_MS = 5 * 60_000;

/**
 * A short-lived credential (access token, JS-SDK ticket) fetched once and shared. Concurrent
 * callers on a cold or stale cache wait on the same fetch, so 100 parallel calls cost one
 * gettoken — WeCom rate-limits gettoken and each new token does not revoke the old one.
 */
export class CachedCredential {
  private current: { value: string; refreshAt: number } | undefined;
  private inflight: Promise<string> | undefined;

  constructor(
    private readonly fetchFresh: () => Promise<Credential>,
    private readonly clock: Clock,
  ) {}

  get(): Promise<string> {
    if (this.current && this.clock.now() < this.current.refreshAt) return Promise.resolve(this.current.value);
    this.inflight ??= this.fetchFresh()
      .then(({ value, expiresIn }) => {
        const lifetimeMs = expiresIn * 1000;
        this.current = { value, refreshAt: this.clock.now() + lifetimeMs - Math.min(EARLY_REFRESH_MS, lifetimeMs / 2) };
        return value;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /**
   * Forget `rejected` (the value WeCom just refused). A value fetched since then is kept, so a
   * burst of calls failing with the same stale token triggers one refresh, not one each.
   */
  invalidate(rejected: string): void {
    if (this.current?.value === rejected) this.current = undefined;
  }
}
