/** Reps' display names from WeCom (user/get), cached for an hour: they sign SOP messages and scripts. */
export class RepNames {
  private readonly cache = new Map<string, { name: string; until: number }>();

  constructor(private readonly lookup: (userId: string) => Promise<{ name?: string | undefined }>) {}

  async name(userId: string): Promise<string> {
    const hit = this.cache.get(userId);
    if (hit && hit.until > Date.now()) return hit.name;
    const name = await this.lookup(userId).then(
      (member) => member.name || userId,
      () => userId, // an unknown or departed rep still reads as their id rather than failing the send or the page
    );
    this.cache.set(userId, { name, until: Date.now() + 3_600_000 });
    return name;
  }
}
