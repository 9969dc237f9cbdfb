import { nameCompanyKey } from '../identity/index.ts';

/** A value the import offered for a field another source owns: kept as it was, reported by line. */
export interface FieldConflict {
  field: string;
  kept: string;
  offered: string;
}

/** A conflict of one contact's row. */
export interface ContactConflict extends FieldConflict {
  externalUserId: string;
}

export interface ContactRowValues {
  name: string;
  unionId: string | null;
  company: string | null;
  title: string | null;
  state: string | null;
  enteredAt: Date;
  addedAt: Date | null;
  removedAt: Date | null;
}

export interface StoredContact {
  name?: string | null;
  origin?: string | null;
  syncedAt?: Date | null;
  unionId?: string | null;
  company?: string | null;
  title?: string | null;
  identitySources?: Array<{ field: string; source: string }> | null;
}

export interface StoredRelation {
  origin?: string | null;
  status?: string | null;
  state?: string | null;
  enteredAt?: Date | null;
  addedAt?: Date | null;
  removedAt?: Date | null;
}

export interface ContactPlan {
  /** Contact fields the import may write (it owns them, or they were empty). */
  set: Partial<Record<'name' | 'unionId' | 'company' | 'title' | 'nameCompanyKey', string>>;
  /** Identity values written, for their provenance. */
  identity: Array<[field: string, value: string]>;
  /** The relation update, or null when WeCom's relation has nothing for the import to fill. */
  relation: { set: Record<string, unknown>; insert: boolean } | null;
  conflicts: FieldConflict[];
}

const shown = (v: string | Date | null | undefined) => (v instanceof Date ? v.toISOString() : (v ?? ''));

/**
 * What a contacts row may write beside what the pool holds. WeCom is the source of truth for what
 * it owns: a contact it synced keeps its name, a relation it reported keeps its status and times.
 * An import may write what is empty, what it wrote itself (a re-import corrects it) and the whole
 * of a contact or relation it created; every other differing value is a conflict.
 */
export function planContactRow(row: ContactRowValues, contact: StoredContact | undefined, relation: StoredRelation | undefined): ContactPlan {
  const conflicts: FieldConflict[] = [];
  const importOwnsContact = !contact || (contact.origin === 'import' && !contact.syncedAt);
  const lastSource = (field: string) => contact?.identitySources?.filter((s) => s.field === field).at(-1)?.source;
  const may = (field: 'name' | 'unionId' | 'company' | 'title', offered: string | null): boolean => {
    if (!offered) return false;
    const current = contact?.[field] ?? '';
    if (!current || current === offered) return !current;
    const owned = field === 'name' ? importOwnsContact : lastSource(field) === 'import' || (lastSource(field) === undefined && importOwnsContact);
    if (!owned) conflicts.push({ field, kept: current, offered });
    return owned;
  };
  const set: ContactPlan['set'] = {};
  const identity: ContactPlan['identity'] = [];
  if (may('name', row.name)) set.name = row.name;
  for (const field of ['unionId', 'company', 'title'] as const) {
    const offered = row[field];
    if (may(field, offered)) {
      set[field] = offered!;
      identity.push([field, offered!]);
    }
  }
  const name = set.name ?? contact?.name ?? '';
  const company = set.company ?? contact?.company ?? '';
  // The probable-match key follows the values the contact keeps, not the file's.
  const key = row.company ? nameCompanyKey(name, company) : null;
  if (key) set.nameCompanyKey = key;

  const offered = {
    status: row.removedAt ? 'lost' : row.addedAt ? 'active' : 'pending',
    state: row.state,
    enteredAt: row.enteredAt,
    addedAt: row.addedAt,
    removedAt: row.removedAt,
  };
  if (!relation || relation.origin === 'import') return { set, identity, relation: { set: offered, insert: !relation }, conflicts };
  // WeCom's relation: the channel may be filled in; its status and times are WeCom's.
  const fill: Record<string, unknown> = {};
  if (offered.state && !relation.state) fill.state = offered.state;
  for (const field of ['state', 'status', 'enteredAt', 'addedAt', 'removedAt'] as const) {
    if (field in fill) continue;
    const kept = shown(relation[field]);
    const value = shown(offered[field]);
    if (value !== '' && value !== kept) conflicts.push({ field, kept, offered: value });
  }
  return { set, identity, relation: Object.keys(fill).length > 0 ? { set: fill, insert: false } : null, conflicts };
}
