/**
 * A rate over the last few seconds of samples, not since the start: a resumed load starts
 * at a high count, and a first chunk that lands a millisecond after the bar appeared would
 * otherwise read as millions per second. Until the samples span `minSpanMs` there is no
 * honest rate, and `rate()` says so with undefined.
 *
 * @example
 * const window = new RateWindow();
 * window.add(Date.now(), 5000);
 * window.rate(Date.now());   // undefined until the samples span a second
 */
export class RateWindow {
  readonly #samples: { t: number; n: number }[] = [];

  constructor(
    private readonly windowMs = 5000,
    private readonly minSpanMs = 1000,
  ) {}

  /** Record that `n` items were done at time `t` (ms). */
  add(t: number, n: number): void {
    const last = this.#samples.at(-1);
    if (last !== undefined && last.t === t) last.n = n;
    else this.#samples.push({ t, n });
    // Keep one sample older than the window, so the window is always fully spanned.
    while (this.#samples.length > 2 && this.#samples[1]!.t <= t - this.windowMs) this.#samples.shift();
  }

  /** Items per second over the window, or undefined while the samples span too little time. */
  rate(now: number): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined) return undefined;
    const span = Math.max(now, last.t) - first.t;
    if (span < this.minSpanMs) return undefined;
    return Math.max(0, (last.n - first.n) / (span / 1000));
  }
}
