/**
 * Commands sent together on one connection (or logins begun side by side): waits for every one,
 * so none is left running and no failure goes unhandled, then fails with the first failure in the
 * order given (the command the server ran first), or gives every value as Promise.all does.
 */
export async function settleAll<T extends readonly unknown[]>(values: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(values);
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
