import cliProgress from 'cli-progress';

/** One collection's progress, as every long command reports it. */
export interface ProgressUpdate {
  readonly collection: string;
  readonly done: number;
  /** Known total (from metadata or a count); undefined while unknown. */
  readonly total?: number;
  readonly rejected?: number;
}

export interface ProgressReporter {
  update(update: ProgressUpdate): void;
  /** Mark a collection finished (its final figures are in the summary table). */
  finish(collection: string): void;
  stop(): void;
}

/**
 * Progress for long work: a bar per collection with rate and ETA on a terminal, JSON lines
 * on stderr otherwise (so logs and CI capture something parseable). JSON lines are rate
 * limited per collection; the final state of each collection is always written.
 *
 * @example
 * const progress = createProgress({ isTerminal: process.stderr.isTTY === true });
 * progress.update({ collection: 'sales', done: 1000, total: 5000 });
 * progress.stop();
 */
export function createProgress(options: {
  isTerminal: boolean;
  enabled?: boolean;
  write?: (line: string) => void;
  intervalMs?: number;
}): ProgressReporter {
  if (options.enabled === false) return { update() {}, finish() {}, stop() {} };
  return options.isTerminal
    ? terminalBars()
    : jsonLines(options.write ?? ((l) => process.stderr.write(l)), options);
}

function terminalBars(): ProgressReporter {
  const multi = new cliProgress.MultiBar(
    {
      format: ' {collection} |{bar}| {value}/{total} docs | {rate}/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, { bar: cliProgress.SingleBar; started: number; done: number }>();
  return {
    update({ collection, done, total }) {
      let entry = bars.get(collection);
      if (!entry) {
        entry = {
          bar: multi.create(total ?? done, 0, { collection: label(collection), rate: 0 }),
          started: Date.now(),
          done,
        };
        bars.set(collection, entry);
      }
      if (total !== undefined) entry.bar.setTotal(total);
      else if (done > entry.bar.getTotal()) entry.bar.setTotal(done);
      const seconds = Math.max((Date.now() - entry.started) / 1000, 0.001);
      entry.done = done;
      entry.bar.update(done, { collection: label(collection), rate: Math.round(done / seconds) });
    },
    finish(collection) {
      // A source's estimate can be off; at the end the true total is what was done.
      const entry = bars.get(collection);
      if (entry) entry.bar.setTotal(entry.done);
    },
    stop() {
      multi.stop();
    },
  };
}

/** Bars line up when names are padded to a common width (most collection names fit). */
function label(collection: string): string {
  return collection.padEnd(18);
}

function jsonLines(write: (line: string) => void, options: { intervalMs?: number }): ProgressReporter {
  const interval = options.intervalMs ?? 1000;
  const state = new Map<string, { last: ProgressUpdate; writtenAt: number; started: number }>();
  const emit = (update: ProgressUpdate, started: number, final: boolean) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    write(
      `${JSON.stringify({ type: 'progress', ...update, docsPerSecond: Math.round(update.done / seconds), final })}\n`,
    );
  };
  return {
    update(update) {
      const now = Date.now();
      // The first line waits one interval: a rate measured over zero seconds means nothing.
      const entry = state.get(update.collection) ?? { last: update, writtenAt: now, started: now };
      entry.last = update;
      if (now - entry.writtenAt >= interval) {
        emit(update, entry.started, false);
        entry.writtenAt = now;
      }
      state.set(update.collection, entry);
    },
    finish(collection) {
      const entry = state.get(collection);
      if (entry) emit(entry.last, entry.started, true);
      state.delete(collection);
    },
    stop() {
      for (const [collection] of state) this.finish(collection);
    },
  };
}
