/**
 * What the bot says, decided from text alone: no Wechaty, no store. The wiring in bot.ts feeds it
 * the customer's words and the FAQ entries of the script library, and carries out the decision.
 */

/** Just what matching needs from a script-library FAQ entry. */
export interface FaqEntry {
  key: string;
  content: string;
  keywords: string[];
}

export type ReplyDecision =
  | { kind: 'answer'; entry: FaqEntry; keyword: string }
  /** The customer asked for a person, or asked something the FAQ cannot answer: a rep takes over. */
  | { kind: 'handoff'; reason: 'asked_for_human' | 'unanswered' }
  /** Small talk, thanks, an emoji: nothing to say. */
  | { kind: 'ignore' };

/** Words with which a customer asks for a person. */
const HUMAN_WORDS = ['转人工', '人工', '客服', '真人'];

/**
 * A question the bot should not leave hanging: a question mark, or the particles and words Chinese
 * questions are made of. Deliberately broad — handing a real question to a rep is cheap, ignoring one is not.
 */
const QUESTION = /[?？]|吗|么|呢|怎|如何|为什么|为啥|多少|几|哪|什么|啥|能不能|可不可以|是否|有没有/;

/** The @mention a group message starts or ends with, so keywords are matched on what the customer actually said. */
const MENTION = /@\S+[\s\u2005]?/g;

export function normalize(text: string): string {
  return text.replace(MENTION, ' ').replace(/\s+/g, ' ').trim().toLowerCase();
}

/**
 * Hand-off first (a customer who asks for a person must get one even if a keyword also matches),
 * then the FAQ entry with the longest matching keyword (the most specific; ties go to the library's
 * order), then a question nobody answered.
 */
export function decideReply(text: string, faq: readonly FaqEntry[]): ReplyDecision {
  const said = normalize(text);
  if (said === '') return { kind: 'ignore' };
  if (HUMAN_WORDS.some((word) => said.includes(word))) return { kind: 'handoff', reason: 'asked_for_human' };
  let best: { entry: FaqEntry; keyword: string } | null = null;
  for (const entry of faq) {
    for (const keyword of entry.keywords) {
      const k = keyword.trim().toLowerCase();
      if (k && said.includes(k) && (!best || k.length > best.keyword.length)) best = { entry, keyword: k };
    }
  }
  if (best) return { kind: 'answer', ...best };
  return QUESTION.test(said) ? { kind: 'handoff', reason: 'unanswered' } : { kind: 'ignore' };
}

/** Said once when the bot steps aside; then it is silent for this customer until a rep resumes it. */
export const HANDOFF_NOTICE = '好的，已为您转接人工客服，请稍候，同事会尽快回复您～';

/** Greets members who joined a managed room; `{{name}}` and `{{group}}` as in SOP texts. */
export const ROOM_WELCOME = '欢迎{{name}}加入「{{group}}」！有问题直接 @我，常见问题我马上回答，复杂的问题会请同事来解答。';

/** Names of several new members as one greeting: 「王女士、李先生」. */
export function joinNames(names: readonly string[]): string {
  return names.filter(Boolean).join('、');
}

/** A keyword auto-tag rule (configured in BOT_TAG_RULES): a customer who says any of `keywords` gets the tag named `tag`. */
export interface TagRule {
  tag: string;
  keywords: string[];
}

/** The tags a message earns under the rules, each once. */
export function tagsFor(text: string, rules: readonly TagRule[]): string[] {
  const said = normalize(text);
  const tags = new Set<string>();
  for (const rule of rules) {
    if (rule.keywords.some((k) => said.includes(k.toLowerCase()))) tags.add(rule.tag);
  }
  return [...tags];
}

/** Rules the demo starts with (tag names from the demo corp's tag library). */
export const DEMO_TAG_RULES: TagRule[] = [
  { tag: 'A类-高意向', keywords: ['报价', '多少钱', '价格', '签约'] },
  { tag: '私有化部署', keywords: ['私有化', '本地部署'] },
];
