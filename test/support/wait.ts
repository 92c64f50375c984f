/**
 * Waiting for events, not for time (test/README.md). A test that needs something to have happened
 * (a line printed, a file written, a process ended) waits for exactly that; the limit is a ceiling
 * for a loaded machine, never a measured time, and when it passes the error says what was awaited.
 */

/** Polls `check` every 20 ms until it is true; throws "timed out after N s waiting for <what>" at the limit. */
export async function until(check: () => boolean, what: string, limitMs = 120_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${limitMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `promise`, or "timed out after N s waiting for <what>" at the limit (the promise itself is left running). */
export async function within<T>(promise: Promise<T>, what: string, limitMs = 120_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${limitMs / 1000} s waiting for ${what}`)), limitMs);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}
