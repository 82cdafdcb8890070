/**
 * Run a `--watch` loop until the user stops it: SIGINT or SIGTERM aborts the signal handed to
 * `work`, which finishes what it is doing and returns, so the command exits 0 with its state
 * recorded instead of being killed mid-statement. The handlers are removed afterwards.
 *
 * @example
 * declare const pass: () => Promise<void>;
 * await untilStopped(async (signal) => {
 *   while (!signal.aborted) await pass();
 * });
 */
export async function untilStopped(work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await work(stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
