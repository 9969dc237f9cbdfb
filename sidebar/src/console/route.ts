import { ref } from 'vue';

// The operator's daily pages first (customers and what to do with them), then the set-up pages.
export const PAGES = ['customers', 'identity', 'segments', 'mass-sends', 'sop', 'tags', 'churn', 'groups', 'channels', 'scripts', 'bot', 'import', 'dashboard'] as const;
export type Page = (typeof PAGES)[number];

/**
 * Hash routes: `#/sop`, `#/sop/<planId>`, `#/sop/<planId>/journey` (edit), `#/sop/new` and
 * `#/sop/new/<templateId>` (a new journey, blank or from a template); `#/customers/<externalUserId>`,
 * `#/segments/<id|new>`, `#/mass-sends/<id>` and `#/mass-sends/new[/<segmentId>|/filter]`; `#/identity[/merges]`
 * (客户合并审核 and its merge history) and `#/import/<kind>` (the import page with a kind chosen). The server serves one page at /console/.
 */
export const route = ref(parse());

function parse(): { page: Page | null; id: string | null; sub: string | null } {
  const [, page = 'sop', id = null, sub = null] = location.hash.replace(/^#/, '').split('/');
  // Ids are encoded in links (an external_userid may hold characters a path does not).
  const decode = (part: string | null) => {
    try {
      return part === null ? null : decodeURIComponent(part);
    } catch {
      return part; // a malformed %-escape: keep it as typed
    }
  };
  return { page: (PAGES as readonly string[]).includes(page) ? (page as Page) : null, id: decode(id), sub: decode(sub) };
}

/** A page with unsaved work says whether leaving is fine (it asks the operator). */
let leaveGuard: (() => boolean) | null = null;
let currentHash = location.hash;

export function setLeaveGuard(guard: (() => boolean) | null): void {
  leaveGuard = guard;
}

window.addEventListener('hashchange', () => {
  if (location.hash === currentHash) return;
  if (leaveGuard && !leaveGuard()) {
    // Stay: put the address back without another hashchange.
    history.replaceState(null, '', currentHash || '#/');
    return;
  }
  currentHash = location.hash;
  route.value = parse();
});

export function go(path: string): void {
  location.hash = `#/${path}`;
}
