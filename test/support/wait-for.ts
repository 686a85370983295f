/** Polls a condition until it holds; fails with a clear message after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${String(timeoutMs)} ms: ${condition.toString()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
