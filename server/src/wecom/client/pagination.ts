/**
 * Walks a cursor-paged WeCom list to its end. WeCom signals the last page with an empty or
 * missing next_cursor; a repeated cursor is treated as the end too, so a misbehaving server
 * cannot spin us forever.
 */
export async function* paginate<Page extends { next_cursor?: string | undefined }>(
  fetchPage: (cursor: string) => Promise<Page>,
): AsyncGenerator<Page> {
  const seen = new Set<string>();
  let cursor = '';
  for (;;) {
    const page = await fetchPage(cursor);
    yield page;
    cursor = page.next_cursor ?? '';
    if (!cursor || seen.has(cursor)) return;
    seen.add(cursor);
  }
}
