import { access, readFile } from 'node:fs/promises';

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

/**
 * A text file's content, or undefined when it does not exist (any other failure, such as
 * a permission error, is thrown): for files whose absence is a normal state, like a first
 * run's missing snapshot or an export's journal.
 *
 * @example
 * const text = await readTextIfExists('migrations/ferry-snapshot.json');
 */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
