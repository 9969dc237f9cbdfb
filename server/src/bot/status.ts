import QRCode from 'qrcode';
import type { HealthProbe, Logger } from '../observability/index.ts';

/** `standby`: another instance holds lease `bot` (the bot logs in on one instance at a time). */
export type BotState = 'disabled' | 'standby' | 'starting' | 'waiting_scan' | 'logged_in' | 'logged_out' | 'error';

/** What `/api/admin/bot` answers: the console renders the QR code and the login state from it. */
export interface BotStatusView {
  enabled: boolean;
  puppet: string;
  state: BotState;
  qrcodeUrl: string | null;
  qrcodeDataUrl: string | null;
  user: { id: string; name: string } | null;
  since: string;
  lastError: string | null;
  watchdog: { healthy: boolean; reason: string | null };
  /** With several instances: this one, and the one holding lease `bot` (null = none right now). */
  lease: { instance: string; holder: string | null } | null;
}

/**
 * The bot's login state as operators need it. The watchdog counts from the moment the bot started
 * waiting for a login (start, or a logout): past `loginTimeoutMs` without one, /healthz says so.
 */
export class BotStatus {
  private state: BotState;
  private since: number;
  private waitingSince: number;
  private qrcodeUrl: string | null = null;
  private qrcodeDataUrl: string | null = null;
  private user: { id: string; name: string } | null = null;
  private lastError: string | null = null;
  private lease: { instance: string; holder: string | null } | null = null;

  constructor(
    private readonly opts: { enabled: boolean; puppet: string; loginTimeoutMs: number; now?: () => number },
  ) {
    this.state = opts.enabled ? 'starting' : 'disabled';
    this.since = this.waitingSince = this.now();
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  get current(): BotState {
    return this.state;
  }

  private enter(state: BotState): void {
    if (state === this.state) return;
    this.state = state;
    this.since = this.now();
  }

  /** Another instance holds the bot (or nobody yet, and this one is waiting for the lease). */
  standby(instance: string, holder: string | null): void {
    this.lease = { instance, holder };
    this.user = null;
    this.qrcodeUrl = this.qrcodeDataUrl = null;
    this.enter('standby');
  }

  /** This instance took lease `bot`: the bot starts here, and the login watchdog counts from now. */
  leading(instance: string): void {
    this.lease = { instance, holder: instance };
    this.waitingSince = this.now();
    this.enter('starting');
  }

  async scanned(url: string): Promise<void> {
    this.enter('waiting_scan');
    if (url === this.qrcodeUrl) return;
    this.qrcodeUrl = url;
    this.qrcodeDataUrl = null;
    const image = await QRCode.toDataURL(url, { margin: 1, width: 256 });
    // A login (or a newer code) may have come while the image was drawn.
    if (this.qrcodeUrl === url) this.qrcodeDataUrl = image;
  }

  loggedIn(user: { id: string; name: string }): void {
    this.user = user;
    this.qrcodeUrl = this.qrcodeDataUrl = null;
    this.lastError = null;
    this.enter('logged_in');
  }

  loggedOut(): void {
    this.user = null;
    this.waitingSince = this.now();
    this.enter('logged_out');
  }

  /** A puppet error: remembered for the console; fatal ones (start failed) also change the state. */
  failed(message: string, fatal: boolean): void {
    this.lastError = message;
    if (fatal) this.enter('error');
  }

  watchdog(): { healthy: boolean; reason: string | null } {
    if (this.state === 'disabled' || this.state === 'logged_in' || this.state === 'standby') return { healthy: true, reason: null };
    if (this.state === 'error') return { healthy: false, reason: `bot failed: ${this.lastError ?? 'unknown error'}` };
    const waited = this.now() - this.waitingSince;
    if (waited < this.opts.loginTimeoutMs) return { healthy: true, reason: null };
    return { healthy: false, reason: `no login for ${Math.round(waited / 1000)} s: scan the QR code in the console (机器人)` };
  }

  view(): BotStatusView {
    return {
      enabled: this.opts.enabled,
      puppet: this.opts.puppet,
      state: this.state,
      qrcodeUrl: this.qrcodeUrl,
      qrcodeDataUrl: this.qrcodeDataUrl,
      user: this.user,
      since: new Date(this.since).toISOString(),
      lastError: this.lastError,
      watchdog: this.watchdog(),
      lease: this.lease,
    };
  }

  /** Part `bot` of /healthz: never critical — the server keeps serving without the bot. */
  probe(): HealthProbe {
    return {
      name: 'bot',
      critical: false,
      check: () => {
        const { healthy, reason } = this.watchdog();
        return {
          ok: healthy,
          state: this.state,
          puppet: this.opts.puppet,
          ...(this.lease ? { instance: this.lease.instance, holder: this.lease.holder } : {}),
          ...(reason ? { reason } : {}),
        };
      },
    };
  }
}

/**
 * A puppet that cannot reach WeChat retries several times a second, forever (wechat4u when DNS
 * fails): the first error of a kind is logged, repeats only once per window with how many were held back.
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  error(message: string, detail: Record<string, unknown>): void {
    this.write('error', message, detail);
  }

  /** For the puppet's own troubles (retries, payloads not loaded yet): worth seeing, not alarming. */
  warn(message: string, detail: Record<string, unknown>): void {
    this.write('warn', message, detail);
  }

  private write(level: 'error' | 'warn', message: string, detail: Record<string, unknown>): void {
    const kind = message.replace(/\d+/g, '#').slice(0, 120);
    const seen = this.last.get(kind);
    const now = this.now();
    if (seen && now - seen.at < this.windowMs) {
      seen.held += 1;
      return;
    }
    this.last.set(kind, { at: now, held: 0 });
    if (this.last.size > 100) this.last.delete(this.last.keys().next().value!);
    this.logger[level]({ ...detail, ...(seen?.held ? { repeatsHeldBack: seen.held } : {}) }, message);
  }
}
