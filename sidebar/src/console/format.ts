/** Display helpers for the console's tables and charts. */
export const pct = (value: number | null | undefined) => (value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`);
export const yuan = (value: number | null | undefined) =>
  value === null || value === undefined ? '—' : `¥${value.toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
export const when = (value: string | Date | null | undefined) => (value ? new Date(value).toLocaleString('zh-CN', { hour12: false }) : '—');

/** A local calendar date YYYY-MM-DD, `offsetDays` from today. */
export function isoDay(offsetDays = 0): string {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Splits "a, b，c" (ASCII or full-width commas) into trimmed non-empty words. */
export const words = (text: string) => text.split(/[,，\s]+/).map((w) => w.trim()).filter(Boolean);
