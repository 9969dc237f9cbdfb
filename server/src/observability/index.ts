export { createLogger, type Logger } from './logger.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { Health, type HealthProbe, type HealthReport, type ProbeResult } from './health.ts';
