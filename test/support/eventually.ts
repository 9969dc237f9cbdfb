/** Polls until the probe yields a value (not null/undefined), for outcomes that happen asynchronously. */
export async function eventually<T>(
  probe: () => PromiseLike<T | null | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
