/**
 * Polls `f` until it gives a value (not undefined), and returns it; after `ms` fails naming
 * `what`. The limit only catches a hang: generous for a loaded 2-core machine.
 */
export async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
