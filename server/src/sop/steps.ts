import mongoose, { type HydratedDocument } from 'mongoose';
import { botRoomOf, type ContactModels, type ContactPool } from '../contacts/index.ts';
import type { Logger } from '../observability/index.ts';
import { UpdateBatches } from '../store/index.ts';
import { createRepTask, type RepTaskModel } from '../tasks/index.ts';
import { MediaSourceError } from '../media/index.ts';
import { RepNames, WecomApiError, type WecomClient } from '../wecom/index.ts';
import { toWecomAttachments, type MediaIds } from './attachments.ts';
import { conditionHolds, tagIdsByName, type StandingOf } from './conditions.ts';
import { optedOutAmong, recordSend } from './guardrails.ts';
import { planSettings, type Enrollment, type JobOutcome, type Plan, type SendRecord, type SopJob, type SopModels } from './models.ts';
import { localDay, nextLocalDay, quietUntil } from './time.ts';
import { findCreatedTask } from './tracking.ts';
import { renderContent } from './templates/content.ts';
import type { SopContent, SopJourney, SopStep } from './templates/schema.ts';

/** A channel that delivers through the customer bot (personal WeChat); the bot module provides it. */
export interface BotChannel {
  available(): boolean;
  /** The bot is logged in on another instance (this one is on standby): its step waits for that instance. */
  elsewhere?(): boolean;
  /**
   * Resolves once the push is durably queued under `key` (the job's key: a retry queues nothing
   * new). Throws UnreachableTarget when the contact has no personal-WeChat counterpart the bot knows.
   */
  sendToContact(externalUserId: string, text: string, key: string): Promise<void>;
  /** As sendToContact; throws UnreachableTarget when no room the bot is in stands for the group. */
  sendToRoom(chatId: string, text: string, key: string): Promise<void>;
}

/** The channel cannot reach this target at all: the step's outcome is no_relation, never a retry. */
export class UnreachableTarget extends Error {}

/** How soon a bot step on a standby instance is offered again (to whichever worker claims it). */
const BOT_ELSEWHERE_RETRY_MS = 30_000;

export interface Guardrails {
  /** Marketing messages per contact per local day, across all plans. */
  frequencyCapPerDay: number;
  /** Contacts carrying this tag (name) get no marketing message. */
  optOutTag: string;
}

export interface StepDeps {
  models: SopModels;
  contacts: ContactModels;
  pool: ContactPool;
  tasks: RepTaskModel;
  client: WecomClient;
  bot: BotChannel | null;
  guardrails: Guardrails;
  logger: Logger;
  /** WeCom media_ids for images and mini-program covers; without it images go by pic_url and mini-programs are skipped. */
  media?: MediaIds | null;
  /** Stage in force and lead score: the engine's (the customers module's, or its computed fallback). */
  standing: StandingOf;
}

export interface StepRun {
  plan: HydratedDocument<Plan>;
  /** The journey of the enrolment's version (the plan's may have been edited since it started). */
  journey: SopJourney;
  enrollment: HydratedDocument<Enrollment>;
  job: HydratedDocument<SopJob>;
  step: SopStep;
  now: Date;
  /** The contact's facts as read for the job's whole batch (see StepRunner.contactFacts), instead of per send. */
  known?: KnownContact;
}

export interface KnownContact {
  optedOut: boolean;
  name: string | null;
  company: string | null;
}

/** Just what rendering needs: a dry run renders for targets that have no enrolment yet. */
export interface RenderTarget {
  plan: Pick<Plan, 'timeZone'>;
  enrollment: Pick<Enrollment, 'targetKind' | 'targetId' | 'userId'>;
  now: Date;
}

export type StepResult =
  | { outcome: JobOutcome; detail?: Record<string, unknown>; goto?: string | null }
  /** Not now (quiet hours, the cap): the job waits until `wait` and runs again; `detail` shows why meanwhile. */
  | { wait: Date; reason: string; detail?: Record<string, unknown> };

/** Executes one step for one target. Sends are recorded before they leave, so a resumed job never sends twice. */
export class StepRunner {
  private readonly repNames: RepNames;
  private readonly conditionDeps: { contacts: ContactModels; standing: StandingOf };
  /** A send's ledger state after the call: a campaign's sends finish together, so their writes go together. */
  private readonly ledgerUpdates: UpdateBatches<SendRecord>;

  constructor(private readonly deps: StepDeps) {
    this.ledgerUpdates = new UpdateBatches(deps.models.Send);
    this.repNames = new RepNames((userId) => deps.client.user.get(userId));
    this.conditionDeps = { contacts: deps.contacts, standing: deps.standing };
  }

  async run(run: StepRun): Promise<StepResult> {
    const result = await this.runStep(run);
    // A job the cap moved to another day still says so once it has run.
    const deferredTo = run.job.detail?.deferredTo;
    return deferredTo && 'outcome' in result ? { ...result, detail: { deferredTo, ...result.detail } } : result;
  }

  private async runStep(run: StepRun): Promise<StepResult> {
    const { step } = run;
    switch (step.type) {
      case 'send_welcome':
        return this.sendWelcome(run, step);
      case 'mass_send':
        return this.guardedSend(run, step.content, 'mass_send');
      case 'bot_send':
        return this.guardedSend(run, step.content, 'bot');
      case 'tag':
        return this.tag(run, step.add, step.remove);
      case 'rep_task': {
        const created = await createRepTask(this.deps.tasks, {
          key: run.job.key,
          externalUserId: run.enrollment.targetId,
          userId: run.enrollment.userId ?? null,
          title: step.title,
          detail: step.detail ?? '',
          dueAt: new Date(run.now.getTime() + step.dueInDays * 86_400_000),
          source: { planId: String(run.plan._id), plan: run.plan.name, stepId: step.id },
        });
        return { outcome: 'task_created', detail: { created } };
      }
      case 'branch': {
        const holds = await conditionHolds(this.conditionDeps, step.if, {
          externalUserId: run.enrollment.targetId,
          since: run.enrollment.enrolledAt,
          now: run.now,
        });
        return { outcome: 'branched', detail: { holds }, goto: (holds ? step.then : step.else) ?? null };
      }
    }
  }

  /** Fills {{variables}} for this target. */
  async render(run: RenderTarget, content: SopContent, known?: KnownContact) {
    const vars = await this.variables(run, known);
    const rendered = renderContent(content.text, vars);
    // WeCom's form (uploaded media_ids) is built only when sending: a dry run or preview must not upload.
    return { ...rendered, attachments: content.attachments };
  }

  /**
   * `{{name}}` is the customer's own name, never the rep's remark (备注名 is the rep's private note).
   * `known`: the contact as WeCom just described it (the welcome lane), so the store need not have it yet.
   */
  private async variables({ plan, enrollment, now }: RenderTarget, known?: Pick<KnownContact, 'name' | 'company'>) {
    const { contacts } = this.deps;
    const date = localDay(now, plan.timeZone);
    const rep = enrollment.userId ? await this.repNames.name(enrollment.userId) : undefined;
    if (enrollment.targetKind === 'group') {
      const group = await contacts.CustomerGroup.findOne({ chatId: enrollment.targetId }).lean();
      return { group: group?.name, rep, date };
    }
    const contact = known ? { name: known.name, corpName: known.company } : await contacts.Contact.findOne({ externalUserId: enrollment.targetId }, { name: 1, corpName: 1 }).lean();
    return { name: contact?.name || undefined, company: contact?.corpName || undefined, rep, date };
  }

  private async sendWelcome(run: StepRun, step: Extract<SopStep, { type: 'send_welcome' }>): Promise<StepResult> {
    const { content } = step;
    const context = run.enrollment.context as
      | { welcomeCode?: string; welcomeDeadline?: Date | string | null; contactName?: string | null; contactCompany?: string | null }
      | undefined;
    const code = context?.welcomeCode;
    if (!code) return { outcome: 'no_welcome_code' };
    // Past the window WeCom would refuse the code (41050): record that without asking it. The window
    // is WeCom's wall clock (the deadline comes from the callback's receipt), not the plan's clock.
    const deadline = context?.welcomeDeadline ? new Date(context.welcomeDeadline) : null;
    if (deadline && Date.now() > deadline.getTime()) {
      return { outcome: 'code_expired', detail: { windowPassed: true, deadline: deadline.toISOString() } };
    }
    // The lane's enrolment carries WeCom's name for the contact when it came in time; else the store
    // may know a returning contact, and a new one gets the name-free text.
    const known = context?.contactName ? { name: context.contactName, company: context.contactCompany ?? null } : undefined;
    const vars = await this.variables(run, known);
    const named = renderContent(content.text, vars);
    // The name is not in the store yet (the welcome lane could not wait for externalcontact/get).
    const message = named.missing.includes('name') && step.fallbackText ? renderContent(step.fallbackText, vars) : named;
    if (message.missing.length) return heldBack(message.missing);
    return this.recordedSend(run, { channel: 'welcome', marketing: false, text: message.text }, async () => {
      const attachments = await toWecomAttachments(content.attachments, this.deps.media ?? null);
      await this.deps.client.welcome.send({
        welcome_code: code,
        text: { content: message.text },
        ...(attachments.items.length ? { attachments: attachments.items } : {}),
      });
      return { skipped: attachments.skipped };
    });
  }

  /** Marketing and bot sends: opt-out, quiet hours and the frequency cap apply. */
  private async guardedSend(run: StepRun, content: SopContent, channel: 'mass_send' | 'bot'): Promise<StepResult> {
    const { plan, journey, enrollment, now } = run;
    const isGroup = enrollment.targetKind === 'group';
    if (!isGroup && (run.known?.optedOut ?? (await this.optedOut(enrollment.targetId)))) return { outcome: 'opted_out' };
    const quietEnd = quietUntil(now, planSettings(plan, journey).quietHours, plan.timeZone);
    if (quietEnd) return { wait: quietEnd, reason: 'quiet hours' };
    if (channel === 'bot' && !this.deps.bot?.available()) {
      // Another instance has the bot: come back until the job lands on it, instead of dropping the push.
      if (this.deps.bot?.elsewhere?.()) return { wait: new Date(now.getTime() + BOT_ELSEWHERE_RETRY_MS), reason: 'the bot is logged in on another instance' };
      return { outcome: 'bot_unavailable' };
    }
    // A room only the bot knows has no WeCom chat id: a WeCom mass send to it cannot exist.
    if (channel === 'mass_send' && isGroup && botRoomOf(enrollment.targetId) !== null) {
      return { outcome: 'no_relation' };
    }

    const message = await this.render(run, content, isGroup ? undefined : run.known);
    if (message.missing.length) return heldBack(message.missing);
    const marketing = journey.marketing && !isGroup;
    return this.recordedSend(run, { channel, marketing, text: message.text }, async () => {
      if (channel === 'bot') {
        const bot = this.deps.bot!;
        await (isGroup ? bot.sendToRoom(enrollment.targetId, message.text, run.job.key) : bot.sendToContact(enrollment.targetId, message.text, run.job.key));
        return {};
      }
      const attachments = await toWecomAttachments(content.attachments, this.deps.media ?? null);
      const sent = await this.deps.client.massSend.addTemplate({
        chat_type: isGroup ? 'group' : 'single',
        ...(isGroup ? { chat_id_list: [enrollment.targetId] } : { external_userid: [enrollment.targetId] }),
        ...(enrollment.userId ? { sender: enrollment.userId } : {}),
        text: { content: message.text },
        ...(attachments.items.length ? { attachments: attachments.items } : {}),
      });
      if (sent.fail_list.includes(enrollment.targetId)) throw new RefusedByWecom('WeCom refused the recipient (fail_list)');
      return { msgid: sent.msgid, awaitsConfirmation: true, skipped: attachments.skipped };
    });
  }

  /**
   * Writes the send to the ledger, then calls WeCom. A marketing send must also win one of the
   * contact's cap slots for the day (a unique key per slot), so two instances can never both use the last one.
   */
  private async recordedSend(
    run: StepRun,
    send: { channel: 'welcome' | 'mass_send' | 'bot'; marketing: boolean; text: string },
    deliver: () => Promise<Delivered>,
  ): Promise<StepResult> {
    const day = localDay(run.now, run.plan.timeZone);
    const entry = { key: run.job.key, targetId: run.enrollment.targetId, day, ...send, at: run.now, sender: run.enrollment.userId ?? null };
    const recorded = await recordSend(this.deps.models.Send, entry, this.deps.guardrails.frequencyCapPerDay);
    if (recorded === 'duplicate') return this.resume(run, send.channel, deliver);
    if (recorded === 'capped') return this.capped(run, day);
    return this.deliver(run, deliver);
  }

  /**
   * The cap took the contact's day: by the plan's capPolicy the job waits for the next local day (at
   * the end of quiet hours if it starts inside them) and asks the cap again, unless that is later
   * than the catch-up bound allows from when the step was due — then, or with 'drop', it is not sent.
   */
  private capped(run: StepRun, day: string): StepResult {
    const { plan, journey, job } = run;
    const capPolicy = plan.capPolicy ?? 'defer';
    const base = { capPerDay: this.deps.guardrails.frequencyCapPerDay, day, capPolicy };
    if (capPolicy === 'drop') return { outcome: 'capped', detail: base };
    const { quietHours, catchUp } = planSettings(plan, journey);
    const nextDay = nextLocalDay(run.now, plan.timeZone);
    const deferredTo = quietUntil(nextDay, quietHours, plan.timeZone) ?? nextDay;
    if ((deferredTo.getTime() - job.dueAt.getTime()) / 3_600_000 > catchUp.maxLatenessHours) {
      return { outcome: 'capped', detail: { ...base, beyondCatchUp: true, maxLatenessHours: catchUp.maxLatenessHours } };
    }
    return { wait: deferredTo, reason: 'frequency cap', detail: { ...base, deferredTo: deferredTo.toISOString() } };
  }

  /** The ledger says this job already began a send: finish it without sending twice. */
  private async resume(run: StepRun, channel: string, deliver: () => Promise<Delivered>): Promise<StepResult> {
    const previous = await this.deps.models.Send.findOne({ key: run.job.key }).lean();
    if (previous?.state === 'sent') return { outcome: 'sent', detail: { msgid: previous.msgid, resumed: true } };
    if (previous?.state === 'failed') return { outcome: 'failed', detail: { resumed: true } };
    // 'sending': the process died during the call. A welcome code is single-use, so WeCom itself refuses a
    // repeat (41051) — retrying is safe. A mass-send task would be created twice: look for ours first.
    if (channel === 'mass_send') {
      const existing = await this.findMassTask(run, previous?.at ?? run.now);
      if (existing) {
        await this.deps.models.Send.updateOne({ key: run.job.key }, { $set: { state: 'sent', msgid: existing, delivery: 'pending' } });
        return { outcome: 'sent', detail: { msgid: existing, resumed: true } };
      }
    }
    return this.deliver(run, deliver);
  }

  private async deliver(run: StepRun, deliver: () => Promise<Delivered>): Promise<StepResult> {
    try {
      const { msgid, awaitsConfirmation, skipped } = await deliver();
      await this.ledgerUpdates.updateOne(
        { key: run.job.key },
        { $set: { state: 'sent', msgid: msgid ?? null, ...(awaitsConfirmation ? { delivery: 'pending' } : {}) } },
      );
      return { outcome: 'sent', detail: { ...(msgid ? { msgid } : {}), ...(skipped?.length ? { skippedAttachments: skipped } : {}) } };
    } catch (err) {
      const known = knownRefusal(err);
      if (!known) throw err; // retryable: the ledger stays 'sending' and the retry resumes from it
      await this.ledgerUpdates.updateOne({ key: run.job.key }, { $set: { state: 'failed' } });
      return { outcome: known, detail: { error: err instanceof Error ? err.message : String(err) } };
    }
  }

  /** A mass-send task this job created before a crash: same sender and text, created since the send began. */
  private async findMassTask(run: StepRun, since: Date): Promise<string | null> {
    const previous = await this.deps.models.Send.findOne({ key: run.job.key }).lean();
    return findCreatedTask(this.deps.client, {
      chatType: run.enrollment.targetKind === 'group' ? 'group' : 'single',
      creator: run.enrollment.userId ?? null,
      text: previous?.text ?? '',
      since,
    });
  }

  /** What sends to these contacts read, in two queries for all of them: opt-outs, and the name and company. */
  async contactFacts(externalUserIds: string[]): Promise<Map<string, KnownContact>> {
    const [optedOut, contacts] = await Promise.all([
      optedOutAmong(this.deps.contacts, this.deps.guardrails.optOutTag, externalUserIds),
      this.deps.contacts.Contact.find({ externalUserId: mongoose.trusted({ $in: externalUserIds }) }, { externalUserId: 1, name: 1, corpName: 1 }).lean(),
    ]);
    const byId = new Map(contacts.map((c) => [c.externalUserId, c]));
    return new Map(
      externalUserIds.map((id) => [id, { optedOut: optedOut.has(id), name: byId.get(id)?.name ?? null, company: byId.get(id)?.corpName ?? null }]),
    );
  }

  private async optedOut(externalUserId: string): Promise<boolean> {
    return (await optedOutAmong(this.deps.contacts, this.deps.guardrails.optOutTag, [externalUserId])).has(externalUserId);
  }

  private async tag(run: StepRun, add: string[], remove: string[]): Promise<StepResult> {
    const ids = await tagIdsByName(this.deps.contacts, [...add, ...remove]);
    const unknown = [...add, ...remove].filter((name) => !ids.has(name));
    const addIds = add.flatMap((n) => ids.get(n) ?? []);
    const removeIds = remove.flatMap((n) => ids.get(n) ?? []);
    const { targetId: externalUserId, userId } = run.enrollment;
    if (!userId) return { outcome: 'no_relation' };
    if (addIds.length || removeIds.length) {
      await this.deps.client.tags.mark({ userid: userId, external_userid: externalUserId, add_tag: addIds, remove_tag: removeIds });
      const relation = await this.deps.contacts.FollowRelation.findOne({ externalUserId, userId }).lean();
      const current = new Set(relation?.tagIds ?? []);
      addIds.forEach((id) => current.add(id));
      removeIds.forEach((id) => current.delete(id));
      await this.deps.pool.setFollowTags({ externalUserId, userId, tagIds: [...current], at: run.now, key: `${run.job.key}:tags` });
    }
    return { outcome: 'tagged', detail: { added: addIds, removed: removeIds, ...(unknown.length ? { unknownTags: unknown } : {}) } };
  }
}

/** A variable with neither a value nor a default: the text would go out broken, so it does not go. */
const heldBack = (variables: string[]): StepResult => ({ outcome: 'held_missing_variable', detail: { variables } });

class RefusedByWecom extends Error {}

/** What a channel reports back: a mass send only creates a task the rep still has to confirm. */
interface Delivered {
  msgid?: string;
  awaitsConfirmation?: boolean;
  /** Attachments that could not go out (a mini-program without a cover), with why. */
  skipped?: string[];
}

/** Refusals that retrying cannot change become the job's outcome instead of a retry storm. */
function knownRefusal(err: unknown): JobOutcome | null {
  if (err instanceof RefusedByWecom) return 'failed';
  if (err instanceof UnreachableTarget) return 'no_relation';
  // An image URL that answers 404 or is no image stays so; a timeout may not.
  if (err instanceof MediaSourceError) return err.retryable ? null : 'failed';
  if (!(err instanceof WecomApiError)) return null;
  if (err.errcode === 41050) return 'code_expired';
  if (err.errcode === 41051) return 'chat_started';
  // -1 leaves it unknown whether WeCom acted: the job retries, and the resume looks for the task first.
  if (err.errcode === -1) return null;
  return err.retryable ? null : 'failed';
}
