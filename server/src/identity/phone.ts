/**
 * One spelling per phone, so `+86 138-0013-8000`, `013800138000`, `8613800138000` and
 * `138 0013 8000` are the same person: separators and the CN country / trunk prefix go, an
 * 11-digit CN mobile stays as it is. Anything else keeps its digits (landlines, foreign numbers).
 */
export function normalisePhone(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const digits = raw.replace(/[\s\-().]/g, '').replace(/^\+/, '');
  if (!/^\d+$/.test(digits)) return null;
  const mobile = /^(?:0086|86|0)?(1\d{10})$/.exec(digits);
  if (mobile) return mobile[1]!;
  // Fewer digits than any real number: a typo or a placeholder, not something to match people on.
  return digits.length >= 5 ? digits : null;
}

/** Normalised, without blanks or repeats, in first-seen order. */
export function normalisePhones(raws: ReadonlyArray<string | null | undefined>): string[] {
  const phones: string[] = [];
  for (const raw of raws) {
    const phone = normalisePhone(raw);
    if (phone && !phones.includes(phone)) phones.push(phone);
  }
  return phones;
}
