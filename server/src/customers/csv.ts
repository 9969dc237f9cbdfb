import { Readable } from 'node:stream';
import type { CustomerItem } from './list.ts';

/** Excel opens UTF-8 as the local code page unless the file starts with a byte-order mark. */
const BOM = '\uFEFF';

const COLUMNS: Array<[header: string, value: (item: CustomerItem) => string | number | null]> = [
  ['客户ID', (c) => c.externalUserId],
  ['姓名', (c) => c.name],
  ['企业', (c) => c.corpName],
  ['跟进员工', (c) => c.reps.map((r) => `${r.userId}${r.status === 'active' ? '' : `(${r.status})`}`).join(' ')],
  ['标签', (c) => c.tags.map((t) => t.name).join(' ')],
  ['阶段', (c) => c.stage],
  ['评分', (c) => c.score],
  ['渠道', (c) => c.channel],
  ['订单数', (c) => c.orders],
  ['消费金额(元)', (c) => (c.spentFen / 100).toFixed(2)],
  ['添加时间', (c) => c.addedAt?.toISOString() ?? ''],
  ['最近互动', (c) => c.lastActivityAt?.toISOString() ?? ''],
  ['状态', (c) => c.status],
];

/** RFC 4180 quoting; a leading = + - @ is defused so a spreadsheet never runs a customer's name as a formula. */
function cell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const line = (cells: Array<string | number | null>) => `${cells.map(cell).join(',')}\r\n`;

/** The CSV of pages as they are read: memory holds one page, however long the list. */
export function csvStream(pages: AsyncIterable<CustomerItem[]>): Readable {
  async function* lines() {
    yield BOM + line(COLUMNS.map(([header]) => header));
    for await (const items of pages) yield items.map((item) => line(COLUMNS.map(([, value]) => value(item)))).join('');
  }
  return Readable.from(lines());
}
