import cliProgress from 'cli-progress';
import type { Output } from './output.js';
import { RateWindow } from './rate-window.js';

/** One collection's progress in one phase, as every long command reports it. */
export interface ProgressUpdate {
  readonly collection: string;
  /** `infer`, `load`, `verify`…: each (collection, phase) gets its own bar. Default `load`. */
  readonly phase?: string;
  readonly done: number;
  /** Known total (from the source's counts or a pre-scan); undefined while unknown. */
  readonly total?: number;
  readonly rejected?: number;
}

export interface ProgressReporter {
  /** False when nothing is shown (`--json`): then nothing needs counting for it. */
  readonly active: boolean;
  update(update: ProgressUpdate): void;
  /** The source's document count for a collection, used by phases that read all of it. */
  setTotal(collection: string, total: number): void;
  /** Mark a collection's phase finished (its final figures are in the summary). */
  finish(collection: string, phase?: string): void;
  /** Finish every collection's bar of one phase (the step moved on). */
  finishPhase(phase: string): void;
  /** Print a line for people above the bars, never through them. */
  log(line: string): void;
  stop(): void;
}

/** Phases that read every document of the collection, so the source's count is their total. */
const WHOLE_COLLECTION_PHASES = new Set(['infer', 'inspect', 'load', 'count', 'verify']);

/**
 * Progress for long work. On a terminal: one bar per collection and phase, all drawn by one
 * cli-progress multibar, with the real total when the source gives one (else a spinner with
 * the count: a bar at 100% over an unknown total would lie), a rate over the last seconds and
 * an ETA only when both are known; log lines go above the bars. Off a terminal: JSON lines,
 * each written whole in one call, rate limited per bar, and the final state of each always.
 *
 * @example
 * const progress = createProgress({ isTerminal: process.stderr.isTTY === true });
 * progress.update({ collection: 'sales', phase: 'load', done: 1000, total: 5000 });
 * progress.stop();
 */
export function createProgress(options: {
  isTerminal: boolean;
  enabled?: boolean;
  write?: (line: string) => void;
  intervalMs?: number;
  /** The terminal's stream (default stderr). */
  stream?: NodeJS.WritableStream;
  now?: () => number;
}): ProgressReporter {
  const write = options.write ?? ((l: string) => process.stderr.write(l));
  if (options.enabled === false)
    return {
      active: false,
      update() {},
      setTotal() {},
      finish() {},
      finishPhase() {},
      log: (line) => write(whole(line)),
      stop() {},
    };
  return options.isTerminal
    ? terminalBars(options.stream ?? process.stderr, options.now ?? Date.now)
    : jsonLines(write, options.intervalMs ?? 1000, options.now ?? Date.now);
}

/**
 * An `Output` whose error lines go through the progress reporter, so a command's messages
 * land above the bars while they are drawn.
 *
 * @example
 * declare const out: Output;
 * declare const progress: ProgressReporter;
 * const shown = outputAbove(out, progress);
 * shown.error('ferry migrate: adding foreign keys…');
 */
export function outputAbove(out: Output, progress: ProgressReporter): Output {
  return { ...out, error: (text) => progress.log(text) };
}

interface BarState {
  readonly key: string;
  readonly collection: string;
  readonly phase: string;
  done: number;
  total: number | undefined;
  readonly window: RateWindow;
  readonly started: number;
}

function keyOf(collection: string, phase: string): string {
  return `${collection}\u0000${phase}`;
}

function terminalBars(stream: NodeJS.WritableStream, now: () => number): ProgressReporter {
  const totals = new Map<string, number>();
  const states = new Map<string, BarState>();
  const bars = new Map<string, cliProgress.SingleBar>();
  let multi: cliProgress.MultiBar | undefined;
  let stopped = false;
  const start = () => {
    multi ??= new cliProgress.MultiBar({
      format: (_options, params, payload: { state: BarState }) =>
        renderBar(payload.state, now(), params.maxWidth),
      hideCursor: true,
      clearOnComplete: false,
      // A wrapped line breaks the multibar's cursor arithmetic and stacks copies of the bars.
      linewrap: false,
      stream,
      fps: 5,
    });
    return multi;
  };
  // A finished bar leaves the drawn area (so the area stays as tall as the work in flight)
  // and becomes one line above it with its final figures.
  const retire = (key: string) => {
    const state = states.get(key);
    const bar = bars.get(key);
    if (state === undefined || bar === undefined || multi === undefined) return;
    multi.remove(bar);
    bars.delete(key);
    states.delete(key);
    const seconds = (now() - state.started) / 1000;
    multi.log(`${padLabel(state)} ${count(state.done)} docs in ${seconds.toFixed(1)}s\n`);
  };
  const totalFor = (state: BarState, given: number | undefined) =>
    given ?? (WHOLE_COLLECTION_PHASES.has(state.phase) ? totals.get(state.collection) : undefined);
  return {
    active: true,
    update({ collection, phase = 'load', done, total }) {
      if (stopped) return;
      const key = keyOf(collection, phase);
      let state = states.get(key);
      if (state === undefined) {
        state = { key, collection, phase, done, total: undefined, window: new RateWindow(), started: now() };
        states.set(key, state);
        bars.set(key, start().create(1, 0, { state }));
      }
      state.done = done;
      state.total = totalFor(state, total) ?? state.total;
      state.window.add(now(), done);
      bars.get(key)?.update(0, { state });
    },
    setTotal(collection, total) {
      totals.set(collection, total);
      for (const state of states.values())
        if (state.collection === collection && WHOLE_COLLECTION_PHASES.has(state.phase))
          state.total ??= total;
    },
    finish(collection, phase = 'load') {
      retire(keyOf(collection, phase));
    },
    finishPhase(phase) {
      for (const state of [...states.values()]) if (state.phase === phase) retire(state.key);
    },
    log(line) {
      if (multi === undefined || stopped) stream.write(whole(line));
      else multi.log(whole(line));
    },
    stop() {
      if (stopped) return;
      for (const key of [...states.keys()]) retire(key);
      stopped = true;
      multi?.stop();
    },
  };
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const BAR_WIDTH = 24;

/** One bar line, cut to the terminal's width so it never wraps. */
export function renderBar(state: Omit<BarState, 'key'>, time: number, maxWidth = 120): string {
  const rate = state.window.rate(time);
  const rateText = rate === undefined ? '' : ` | ${count(Math.round(rate))}/s`;
  let line: string;
  if (state.total !== undefined && state.total > 0 && state.done <= state.total) {
    const fraction = state.done / state.total;
    // A bar shows 100% only when the collection ended (finish removes it first).
    const filled = Math.min(BAR_WIDTH - 1, Math.floor(fraction * BAR_WIDTH));
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    const percent = Math.min(99, Math.floor(fraction * 100));
    const eta = rate !== undefined && rate > 0 ? ` | ETA ${duration((state.total - state.done) / rate)}` : '';
    line = `${padLabel(state)} |${bar}| ${percent}% ${count(state.done)}/${count(state.total)} docs${rateText}${eta}`;
  } else {
    const spin = SPINNER[Math.floor(time / 200) % SPINNER.length];
    const elapsed = duration((time - state.started) / 1000);
    line = `${padLabel(state)} ${spin} ${count(state.done)} docs${rateText} | ${elapsed}`;
  }
  return line.length >= maxWidth ? line.slice(0, Math.max(0, maxWidth - 1)) : line;
}

function padLabel(state: { collection: string; phase: string }): string {
  return `${state.collection} ${state.phase}`.padEnd(26);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function whole(line: string): string {
  return line.endsWith('\n') ? line : `${line}\n`;
}

function jsonLines(write: (line: string) => void, interval: number, now: () => number): ProgressReporter {
  const totals = new Map<string, number>();
  const state = new Map<
    string,
    { last: ProgressUpdate & { phase: string }; writtenAt: number; window: RateWindow }
  >();
  const emit = (key: string, final: boolean) => {
    const entry = state.get(key);
    if (entry === undefined) return;
    const { last } = entry;
    const total =
      last.total ?? (WHOLE_COLLECTION_PHASES.has(last.phase) ? totals.get(last.collection) : undefined);
    const rate = entry.window.rate(now());
    // One write per line, newline included: lines never interleave with other output.
    write(
      `${JSON.stringify({
        type: 'progress',
        ...last,
        ...(total === undefined ? {} : { total }),
        ...(rate === undefined ? {} : { docsPerSecond: Math.round(rate) }),
        final,
      })}\n`,
    );
  };
  return {
    active: true,
    update(update) {
      const t = now();
      const phase = update.phase ?? 'load';
      const key = keyOf(update.collection, phase);
      // The first line waits one interval: a rate measured over zero seconds means nothing.
      const entry = state.get(key) ?? { last: { ...update, phase }, writtenAt: t, window: new RateWindow() };
      entry.last = { ...update, phase };
      entry.window.add(t, update.done);
      state.set(key, entry);
      if (t - entry.writtenAt >= interval) {
        emit(key, false);
        entry.writtenAt = t;
      }
    },
    setTotal(collection, total) {
      totals.set(collection, total);
    },
    finish(collection, phase = 'load') {
      const key = keyOf(collection, phase);
      emit(key, true);
      state.delete(key);
    },
    finishPhase(phase) {
      for (const [key, entry] of [...state]) {
        if (entry.last.phase !== phase) continue;
        emit(key, true);
        state.delete(key);
      }
    },
    log(line) {
      write(whole(line));
    },
    stop() {
      for (const key of [...state.keys()]) {
        emit(key, true);
        state.delete(key);
      }
    },
  };
}
