export { Analytics, type AnalyticsDeps, type AnalyticsReport } from './analytics.ts';
export type { BusinessMetrics, ChannelMetrics, Period } from './metrics.ts';
export type { FunnelStep, RepActivity, ScriptUse } from './activity.ts';
export { analyticsModule } from './routes.ts';
