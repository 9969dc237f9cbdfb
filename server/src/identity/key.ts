const fold = (text: string | null | undefined) => (text ?? '').normalize('NFKC').toLowerCase().replace(/\s+/g, '');

/**
 * The name + company key a probable match is looked up by (stored on the contact and indexed):
 * case- and space-insensitive; null when either is unknown, since a name alone matches strangers.
 */
export function nameCompanyKey(name: string | null | undefined, company: string | null | undefined): string | null {
  const n = fold(name);
  const c = fold(company);
  return n && c ? `${n}|${c}` : null;
}
