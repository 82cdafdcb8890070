import { access } from 'node:fs/promises';

/**
 * Whether a path exists (and is reachable by this process).
 *
 * @example
 * if (!(await fileExists('ferry.config.ts'))) console.log('no config yet');
 */
export async function fileExists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
