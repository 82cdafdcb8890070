/**
 * True when `FERRY_DEBUG` asks for row values in errors. Values stay out of errors and
 * logs otherwise (DESIGN.md, after postgres.js), wherever the error is raised.
 *
 * @example
 * declare const value: unknown;
 * const detail = debugEnabled() ? `: ${JSON.stringify(value)}` : '';
 */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.FERRY_DEBUG;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}
