/**
 * A failure to play on the next calls to one API, before the simulator looks at the request:
 * WeCom-side trouble as the client would see it.
 */
export interface Fault {
  /** qyapi path, e.g. '/externalcontact/get'; '*' matches every API. */
  api: string;
  /** How many calls it affects; default 1. */
  times?: number;
  /** Answer this errcode (-1, 40014, 42001, 45009, 45033, 60020... any). */
  errcode?: number;
  errmsg?: string;
  /** Answer this HTTP status with a non-JSON body. */
  httpStatus?: number;
  /** Close the socket without answering. */
  dropConnection?: boolean;
  /** Wait this long first (then fail as above, or answer normally). */
  delayMs?: number;
}

type Action = Omit<Fault, 'api' | 'times'>;

export class FaultPlan {
  private pending: Array<{ api: string; remaining: number; action: Action }> = [];

  add(fault: Fault): void {
    const { api, times = 1, ...action } = fault;
    if (action.errcode === undefined && action.httpStatus === undefined && !action.dropConnection && action.delayMs === undefined) {
      throw new Error('a fault needs errcode, httpStatus, dropConnection or delayMs');
    }
    this.pending.push({ api, remaining: times, action });
  }

  /** The action for this call, if a fault is armed for its API (first armed, first played). */
  take(api: string): Action | undefined {
    const entry = this.pending.find((f) => f.api === api || f.api === '*');
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.pending = this.pending.filter((f) => f !== entry);
    return entry.action;
  }

  clear(): void {
    this.pending = [];
  }
}
