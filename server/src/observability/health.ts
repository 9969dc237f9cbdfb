/**
 * Each part of the system (store, bot, scheduler...) registers a probe. A failing critical
 * probe makes /healthz answer 503 so a load balancer stops routing here; a failing
 * non-critical one (the bot waiting for a QR scan) only shows as degraded.
 */
export interface ProbeResult {
  ok: boolean;
  [detail: string]: unknown;
}

export interface HealthProbe {
  name: string;
  critical: boolean;
  check(): Promise<ProbeResult> | ProbeResult;
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  uptimeSeconds: number;
  parts: Record<string, ProbeResult>;
}

const PROBE_TIMEOUT_MS = 2_000;

export class Health {
  private readonly probes: HealthProbe[] = [];
  private readonly startedAt = Date.now();

  register(probe: HealthProbe): void {
    if (this.probes.some((p) => p.name === probe.name)) throw new Error(`health probe "${probe.name}" registered twice`);
    this.probes.push(probe);
  }

  async report(): Promise<HealthReport> {
    const results = await Promise.all(this.probes.map((probe) => runProbe(probe)));
    const parts: Record<string, ProbeResult> = {};
    let status: HealthReport['status'] = 'ok';
    results.forEach((result, i) => {
      const probe = this.probes[i]!;
      parts[probe.name] = result;
      if (!result.ok) status = probe.critical ? 'down' : status === 'down' ? 'down' : 'degraded';
    });
    return { status, uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000), parts };
  }
}

async function runProbe(probe: HealthProbe): Promise<ProbeResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `no answer within ${PROBE_TIMEOUT_MS} ms` }), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => probe.check()), timeout]);
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
