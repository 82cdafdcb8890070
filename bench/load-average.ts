import { loadavg } from 'node:os';

/** The machine's load average over 1, 5 and 15 minutes, as `uptime` prints it: a bench's figures mean little without it on a shared machine. */
export function loadAverage(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(', ');
}
