/** The variables every plan can fill in step text, with what the engine puts there. */
export const TEMPLATE_VARIABLES = {
  name: '客户称呼：跟进人给客户的备注名，没有备注时用微信昵称',
  rep: '跟进人（负责该客户的员工）姓名',
  company: '客户所在企业（企业微信客户的企业简称）',
  group: '群名（仅 target: group 的社群推送）',
  date: '今天的日期（按计划时区），YYYY-MM-DD，如 2026-11-23',
} as const satisfies Record<string, string>;

/**
 * `{{name}}`, `{{ rep }}`: a name made of letters, digits, `_`, `-` or `.`; spaces allowed inside the
 * braces. `{{company|贵公司}}`: the text after `|` (trimmed, may be empty) stands in when the variable has no value.
 */
const VARIABLE = /\{\{\s*([A-Za-z_][\w.-]*)\s*(?:\|([^{}]*))?\}\}/g;

/**
 * Every text a customer receives is filled here (SOP steps, scripts, bot replies, 群发, previews).
 * A variable with no value (absent or empty) takes its default; one with neither becomes '' and is
 * listed in `missing`: a sender holds such a text back (an SOP step, a script not ready) instead of
 * sending it broken, and a dry-run shows which contacts would be held.
 */
export function renderContent(text: string, vars: Record<string, string | undefined>): { text: string; missing: string[] } {
  const missing = new Set<string>();
  const rendered = text.replace(VARIABLE, (_match, name: string, fallback: string | undefined) => {
    // hasOwn: `{{constructor}}` must not pick up Object.prototype members.
    // An explicit default, even an empty one (`{{name|}}您好`), is the author accepting the gap.
    const value = (Object.hasOwn(vars, name) ? vars[name] : undefined) || fallback?.trim();
    if (!value && fallback === undefined) missing.add(name);
    return value ?? '';
  });
  return { text: rendered, missing: [...missing] };
}

/** The variable names a text uses, in order of first use. */
export function variablesIn(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(VARIABLE), (m) => m[1] as string))];
}
