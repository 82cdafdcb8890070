import { redactSecrets } from '../../core/redact.js';
import type { DashboardSnapshot, SnapshotSource } from './snapshot.js';
import { readSnapshot } from './snapshot.js';

/** A listener of the feed: a snapshot, or the reason the last read failed. */
export type FeedListener = (event: { snapshot: DashboardSnapshot } | { problem: string }) => void;

/**
 * One reader of the dashboard state for every open page: while anyone listens it reads a
 * snapshot every `intervalMs` (never two reads at once; a slow read delays the next tick
 * instead of piling up) and hands it to each listener. With nobody listening it reads nothing,
 * so an idle `ferry serve` costs the database nothing.
 *
 * @example
 * declare const source: SnapshotSource;
 * const feed = new DashboardFeed(source, 500);
 * const stop = feed.subscribe((event) => console.log('snapshot' in event ? event.snapshot.generatedAt : event.problem));
 * stop();
 */
export class DashboardFeed {
  readonly #listeners = new Set<FeedListener>();
  #reading: Promise<DashboardSnapshot> | undefined;
  #running = false;
  #closed = false;

  constructor(
    private readonly source: SnapshotSource,
    private readonly intervalMs: number,
  ) {}

  /** Read now, sharing a read already in flight. */
  read(): Promise<DashboardSnapshot> {
    this.#reading ??= readSnapshot(this.source).finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  /** Listen; the first snapshot comes at once. Returns the function that stops listening. */
  subscribe(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    if (!this.#running && !this.#closed) {
      this.#running = true;
      void this.#loop();
    }
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Stop reading for good (the server is closing). */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
  }

  /** Read, hand out, wait; until nobody listens. */
  async #loop(): Promise<void> {
    while (!this.#closed && this.#listeners.size > 0) {
      let event: Parameters<FeedListener>[0];
      try {
        event = { snapshot: await this.read() };
      } catch (error) {
        event = { problem: redactSecrets(error instanceof Error ? error.message : String(error)) };
      }
      for (const listener of this.#listeners) listener(event);
      // Unref'd: a pause between reads never keeps a closing process alive.
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs).unref());
    }
    this.#running = false;
  }
}
