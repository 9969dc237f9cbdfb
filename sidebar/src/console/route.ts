import { ref } from 'vue';

export const PAGES = ['sop', 'channels', 'scripts', 'bot', 'import', 'dashboard'] as const;
export type Page = (typeof PAGES)[number];

/**
 * Hash routes: `#/sop`, `#/sop/<planId>`, `#/sop/<planId>/journey` (edit), `#/sop/new` and
 * `#/sop/new/<templateId>` (a new journey, blank or from a template). The server serves one page at /console/.
 */
export const route = ref(parse());

function parse(): { page: Page | null; id: string | null; sub: string | null } {
  const [, page = 'sop', id = null, sub = null] = location.hash.replace(/^#/, '').split('/');
  return { page: (PAGES as readonly string[]).includes(page) ? (page as Page) : null, id, sub };
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
