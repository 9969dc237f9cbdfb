/** One request the simulator received, as parsed; tests assert on these. */
export interface SimCall {
  api: string;
  method: string;
  query: Record<string, string>;
  body: unknown;
  /** What the simulator answered; undefined for dropped connections and HTTP-level faults. */
  errcode?: number;
  at: number;
}

export class CallLog {
  private entries: SimCall[] = [];

  record(call: SimCall): SimCall {
    this.entries.push(call);
    return call;
  }

  list(api?: string): SimCall[] {
    return api === undefined ? [...this.entries] : this.entries.filter((c) => c.api === api);
  }

  reset(): void {
    this.entries = [];
  }
}
