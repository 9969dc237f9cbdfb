export { Analytics, ANALYTICS_SNAPSHOT_LEASE, type AnalyticsDeps, type AnalyticsOptions, type AnalyticsReport, type Freshness } from './analytics.ts';
export { SNAPSHOT_COLLECTION, type SnapshotHead } from './snapshot.ts';
export type { BusinessMetrics, ChannelMetrics, Period } from './metrics.ts';
export type { FunnelStep, RepActivity, ScriptUse } from './activity.ts';
export { analyticsModule } from './routes.ts';
