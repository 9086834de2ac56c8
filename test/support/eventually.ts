/**
 * Polls `condition` until it holds; throws "timed out waiting for <what>" after `timeoutMs`.
 * For tests that wait on something asynchronous they cannot await directly (a broker, a timer).
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 60_000, pollMs = 50 }: { timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
