/** The variables every plan can fill in step text, with what the engine puts there. */
export const TEMPLATE_VARIABLES = {
  name: '客户称呼：跟进人给客户的备注名，没有备注时用微信昵称',
  rep: '跟进人（负责该客户的员工）姓名',
  company: '客户所在企业（企业微信客户的企业简称）',
  group: '群名（仅 target: group 的社群推送）',
  date: '今天的日期（按计划时区），YYYY-MM-DD，如 2026-11-23',
} as const satisfies Record<string, string>;

/** `{{name}}`, `{{ rep }}`: a name made of letters, digits, `_`, `-` or `.`; spaces allowed inside the braces. */
const VARIABLE = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;

/**
 * Fills `{{variables}}` in step text. A variable with no value (absent or empty) becomes '' and is
 * listed in `missing`, so a dry-run can show which contacts would get a gap — write templates so a
 * gap still reads well ("{{name}}您好" → "您好").
 */
export function renderContent(text: string, vars: Record<string, string | undefined>): { text: string; missing: string[] } {
  const missing = new Set<string>();
  const rendered = text.replace(VARIABLE, (_match, name: string) => {
    // hasOwn: `{{constructor}}` must not pick up Object.prototype members.
    const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (!value) missing.add(name);
    return value ?? '';
  });
  return { text: rendered, missing: [...missing] };
}

/** The variable names a text uses, in order of first use. */
export function variablesIn(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(VARIABLE), (m) => m[1] as string))];
}
