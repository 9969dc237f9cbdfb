import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEMPLATE_VARIABLES, TemplateError, loadTemplates, parseTemplate, renderContent } from '../../server/src/sop/templates/index.ts';

const SHIPPED = join(import.meta.dirname, '../../sop-templates');

describe('shipped templates', () => {
  it('all load with no errors, one per file', async () => {
    const { templates, errors } = await loadTemplates(SHIPPED);
    expect(errors.map(String)).toEqual([]);
    expect(templates.map((t) => t.id).sort()).toEqual(['event-invite', 'group-weekly', 'nurture-7d', 'renewal', 'welcome', 'winback']);
  });

  it('use only the documented variables', async () => {
    const { templates } = await loadTemplates(SHIPPED);
    const texts = templates.flatMap((t) => t.steps.flatMap((s) => ('content' in s ? [s.content.text] : [])));
    const vars = Object.fromEntries(Object.keys(TEMPLATE_VARIABLES).map((k) => [k, 'x']));
    for (const text of texts) expect(renderContent(text, vars).missing).toEqual([]);
  });
});

/** One line per element, so the expected line numbers can be read off the test. */
const lines = (...ls: string[]) => `${ls.join('\n')}\n`;

const HEAD = ['id: t', 'name: T', 'trigger:', '  type: contact_added', 'steps:'];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sop-templates-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function errorsFor(files: Record<string, string>): Promise<string[]> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const { errors } = await loadTemplates(dir);
  return errors.map((e) => e.toString().replace(`${dir}/`, ''));
}
const errorsOf = (text: string) => errorsFor({ 't.yaml': text });

describe('broken templates name the file, line and field', () => {
  it('YAML syntax error', async () => {
    expect(await errorsOf(lines(...HEAD, '  - id: a', '    type: mass_send', '    content:', '      text: hi: there'))).toEqual([
      't.yaml:9:13: YAML syntax: Nested mappings are not allowed in compact mappings',
    ]);
  });

  it('unknown key, named at the key', async () => {
    expect(await errorsOf(lines(...HEAD, '  - id: a', '    type: mass_send', '    wait: { days: 1 }', '    content: { text: hi }'))).toEqual([
      't.yaml:8:5 steps[0].wait: unknown key "wait"',
    ]);
  });

  it('unknown key inside content (a typo must not drop attachments silently)', async () => {
    expect(await errorsOf(lines(...HEAD, '  - id: a', '    type: mass_send', '    content:', '      text: hi', '      attachment: []'))).toEqual([
      't.yaml:10:7 steps[0].content.attachment: unknown key "attachment"',
    ]);
  });

  it('missing required field, pointing at the mapping that lacks it', async () => {
    expect(await errorsOf(lines('id: t', 'trigger:', '  type: contact_added', 'steps:', '  - id: a', '    type: mass_send'))).toEqual([
      't.yaml:1:1 name: is required',
      't.yaml:5:5 steps[0].content: is required',
    ]);
  });

  it('wrong type and out-of-range value', async () => {
    expect(await errorsOf(lines(...HEAD, '  - id: a', '    type: mass_send', '    after: { days: "3", hours: 30 }', '    content: { text: hi }'))).toEqual([
      't.yaml:8:14 steps[0].after.days: must be a number, not text "3"',
      't.yaml:8:25 steps[0].after.hours: must be at most 23',
    ]);
  });

  it('unknown step type lists the types', async () => {
    expect(await errorsOf(lines(...HEAD, '  - id: a', '    type: wait'))).toEqual([
      't.yaml:7:5 steps[0].type: must be one of: send_welcome, mass_send, bot_send, tag, rep_task, branch',
    ]);
  });

  it('a condition is narrowed to the form it meant', async () => {
    const base = [...HEAD, '  - id: a', '    type: mass_send', '    content: { text: hi }'];
    expect(await errorsOf(lines(...base, 'exitWhen: { bought: "yes" }'))).toEqual(['t.yaml:9:13 exitWhen.bought: must be true or false, not text "yes"']);
    expect(await errorsOf(lines(...base, 'exitWhen: { replied: true, bought: true }'))).toEqual([
      't.yaml:9:1 exitWhen: must be exactly one of: replied, hasTag, bought, stage, score',
    ]);
  });

  it("the schema's own message wins (WeCom's attachment limit)", async () => {
    const attachment = '{ type: image, url: "https://example.com/a.png" }';
    const ten = `[${Array(10).fill(attachment).join(', ')}]`;
    expect(await errorsOf(lines(...HEAD, '  - id: a', '    type: mass_send', `    content: { text: hi, attachments: ${ten} }`))).toEqual([
      't.yaml:8:26 steps[0].content.attachments: WeCom accepts at most 9 attachments',
    ]);
  });

  it('bad cron names the field', async () => {
    const schedule = (cron: string) => lines('id: t', 'name: T', 'trigger:', '  type: schedule', `  cron: "${cron}"`, 'steps:', '  - { id: a, type: mass_send, content: { text: hi } }');
    expect(await errorsOf(schedule('0 25 * * 1'))).toEqual(['t.yaml:5:3 trigger.cron: hour field "25" is invalid (hour: 0-23)']);
    expect(await errorsOf(schedule('0 10 * * 9'))).toEqual(['t.yaml:5:3 trigger.cron: day-of-week field "9" is invalid (day-of-week: 0-7 or SUN-SAT)']);
    expect(await errorsOf(schedule('0 0 10 * * 1'))).toEqual([
      't.yaml:5:3 trigger.cron: must have 5 fields (minute hour day-of-month month day-of-week), got 6',
    ]);
  });

  it('branch to an earlier or unknown step', async () => {
    const steps = [
      '  - { id: a, type: mass_send, content: { text: hi } }',
      '  - id: b',
      '    type: branch',
      '    if: { replied: true }',
      '    then: a',
      '    else: nowhere',
      '  - { id: c, type: mass_send, content: { text: hi } }',
    ];
    expect(await errorsOf(lines(...HEAD, ...steps))).toEqual([
      't.yaml:10:5 steps[1].then: must name a later step: "a" is steps[0] (journeys cannot loop)',
      't.yaml:11:5 steps[1].else: no step has id "nowhere"',
      't.yaml:12:5 steps[2]: step "c" can never run: it follows a branch and no branch names it',
    ]);
  });

  it('send_welcome only first, without a delay, on contact_added', async () => {
    const welcome = '  - { id: w, type: send_welcome, content: { text: hi } }';
    const send = '  - { id: a, type: mass_send, content: { text: hi } }';
    expect(await errorsOf(lines(...HEAD, send, welcome))).toEqual([
      "t.yaml:7:14 steps[1].type: send_welcome must be the first step: WeCom's welcome code comes with the add event and expires after 20 s",
    ]);
    expect(await errorsOf(lines(...HEAD, '  - id: w', '    type: send_welcome', '    after: { minutes: 5 }', '    content: { text: hi }'))).toEqual([
      "t.yaml:8:5 steps[0].after: send_welcome cannot wait: WeCom's welcome code comes with the add event and expires after 20 s",
    ]);
    expect(await errorsOf(lines('id: t', 'name: T', 'trigger: { type: contact_tagged, tag: VIP }', 'steps:', welcome))).toEqual([
      "t.yaml:5:14 steps[0].type: send_welcome needs trigger contact_added: WeCom's welcome code comes with the add event and expires after 20 s",
    ]);
  });

  it('group journeys: schedule trigger, sends only, no contact variables', async () => {
    const group = ['id: t', 'name: T', 'target: group', 'trigger: { type: schedule, cron: "0 10 * * 1" }', 'steps:'];
    expect(await errorsOf(lines(...group, '  - { id: a, type: mass_send, content: { text: "{{group}}" } }', '  - { id: b, type: tag, add: [x] }'))).toEqual([
      't.yaml:7:14 steps[1].type: a group journey takes only mass_send and bot_send steps, not tag',
    ]);
    expect(await errorsOf(lines(...group, '  - { id: a, type: mass_send, content: { text: "{{name}}您好" } }'))).toEqual([
      't.yaml:6:42 steps[0].content.text: {{name}} has no value in a group journey',
    ]);
    const tagged = ['id: t', 'name: T', 'target: group', 'trigger: { type: contact_tagged, tag: x }', 'steps:', '  - { id: a, type: mass_send, content: { text: hi } }'];
    expect(await errorsOf(lines(...tagged))).toEqual(['t.yaml:4:12 trigger.type: a group journey needs trigger schedule (contact_tagged is about one contact)']);
  });

  it('duplicate step ids', async () => {
    expect(await errorsOf(lines(...HEAD, '  - { id: a, type: mass_send, content: { text: hi } }', '  - { id: a, type: bot_send, content: { text: hi } }'))).toEqual([
      't.yaml:7:7 steps[1].id: duplicate step id "a" (already used by steps[0])',
    ]);
  });

  it('duplicate template ids across files name both files', async () => {
    const text = lines(...HEAD, '  - { id: a, type: mass_send, content: { text: hi } }');
    expect(await errorsFor({ 't.yaml': text, 't.yml': text })).toEqual([`t.yml:1:1 id: template id "t" is already used by ${join(dir, 't.yaml')}`]);
  });

  it('file name must be the id', async () => {
    expect(await errorsFor({ 'other.yaml': lines(...HEAD, '  - { id: a, type: mass_send, content: { text: hi } }') })).toEqual([
      'other.yaml:1:1 id: must be the file name: "t" is in other.yaml, so rename one to match',
    ]);
  });

  it('good files still load next to broken ones', async () => {
    await writeFile(join(dir, 't.yaml'), lines(...HEAD, '  - { id: a, type: mass_send, content: { text: hi } }'));
    await writeFile(join(dir, 'u.yml'), 'id: u\n');
    await writeFile(join(dir, 'notes.txt'), 'not a template');
    const { templates, errors } = await loadTemplates(dir);
    expect(templates.map((t) => t.id)).toEqual(['t']);
    expect(errors.map((e) => [e.path, e.line])).toEqual([
      ['name', 1],
      ['trigger', 1],
      ['steps', 1],
    ]);
  });
});

describe('parseTemplate', () => {
  it('applies defaults', () => {
    const t = parseTemplate(lines(...HEAD, '  - { id: a, type: mass_send, content: { text: hi } }'), 't.yaml');
    expect(t).toMatchObject({ target: 'contact', marketing: true, quietHours: { start: '22:00', end: '08:00' }, catchUp: { policy: 'run', maxLatenessHours: 24 } });
  });

  it('throws the first problem as a TemplateError', () => {
    const attempt = () => parseTemplate(lines(...HEAD, '  - { id: a, type: mass_send, after: { days: 400 }, content: { text: hi } }'), 'sop-templates/t.yaml');
    expect(attempt).toThrow(TemplateError);
    try {
      attempt();
    } catch (e) {
      expect(e).toMatchObject({ file: 'sop-templates/t.yaml', line: 6, column: 40, path: 'steps[0].after.days', message: 'must be at most 365' });
      expect(String(e)).toBe('sop-templates/t.yaml:6:40 steps[0].after.days: must be at most 365');
    }
  });
});

describe('variables in step text', () => {
  const step = (text: string) => lines(...HEAD, '  - id: a', '    type: mass_send', `    content: { text: "${text}" }`);
  it('accepts a default ({{company|贵公司}})', async () => {
    expect(await errorsOf(step('{{company|贵公司}}您好'))).toEqual([]);
  });
  it('rejects an unknown variable, with or without a default', async () => {
    const errors = await errorsOf(step('{{compny|贵公司}}您好'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/steps\[0\]\.content\.text: \{\{compny\}\} is not a variable/);
  });
});

describe('renderContent', () => {
  it('fills variables, spaces allowed inside the braces', () => {
    expect(renderContent('{{name}}您好，我是{{ rep }}。', { name: '陈总', rep: '张伟' })).toEqual({ text: '陈总您好，我是张伟。', missing: [] });
  });

  it('blanks and reports missing or empty ones, once each', () => {
    expect(renderContent('{{name}}您好，{{company}}的{{name}}，{{rep}}', { name: '', rep: '李娜' })).toEqual({ text: '您好，的，李娜', missing: ['name', 'company'] });
  });

  it('uses a variable’s default when it has no value, and lists only those with neither', () => {
    expect(renderContent('{{name|您}}好，{{ company | 贵公司 }}的方案，{{rep}}', { name: '陈总' })).toEqual({ text: '陈总好，贵公司的方案，', missing: ['rep'] });
    expect(renderContent('{{company|贵公司}}', { company: '云帆' })).toEqual({ text: '云帆', missing: [] });
    // An empty default is the author accepting the gap.
    expect(renderContent('{{name|}}您好', {})).toEqual({ text: '您好', missing: [] });
  });

  it('never reads inherited properties', () => {
    expect(renderContent('{{constructor}}{{toString}}', {})).toEqual({ text: '', missing: ['constructor', 'toString'] });
  });
});
