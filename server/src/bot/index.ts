export { createBot, type Bot, type BotDeps, type Handled, type Puppet, type SentMessage } from './bot.ts';
export { botAdminModule } from './admin-routes.ts';
export { loadPuppet, stopBot } from './lifecycle.ts';
export { botPlaygroundModule, createDemoWorld, type DemoWorld } from './demo.ts';
export { DEMO_TAG_RULES, type TagRule } from './replies.ts';
export { BotStatus } from './status.ts';
export type { Clock, PacingRules } from './pacer.ts';
export { botLeadership } from './leadership.ts';
