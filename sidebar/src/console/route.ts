import { ref } from 'vue';

export const PAGES = ['sop', 'channels', 'scripts', 'bot', 'import', 'dashboard'] as const;
export type Page = (typeof PAGES)[number];

/** Hash routes (`#/sop`, `#/sop/<planId>`): the server serves one page at /console/. */
export const route = ref(parse());

function parse(): { page: Page | null; id: string | null } {
  const [, page = 'sop', id = null] = location.hash.replace(/^#/, '').split('/');
  return { page: (PAGES as readonly string[]).includes(page) ? (page as Page) : null, id };
}

window.addEventListener('hashchange', () => {
  route.value = parse();
});

export function go(path: string): void {
  location.hash = `#/${path}`;
}
