/**
 * The same batches, with up to `depth` of them fetched while the consumer still works on the
 * one it was handed: a live server's round trips then overlap the consumer's encoding and
 * COPY instead of adding to them. Memory: at most `depth` batches wait beside the one being
 * consumed.
 *
 * - Order and content are unchanged, so the position a batch carries still means "every
 *   document up to here was handed over". A consumer that checkpoints a batch only after
 *   loading it never checkpoints past a batch that is merely fetched.
 * - A fetch ahead that fails is thrown when the consumer reaches it, never before, and never
 *   left as an unhandled rejection (an abort signal given to the inner read fails it so).
 * - The inner iterator is asked for one batch at a time, each request after the previous one
 *   settled, so it need not cope with concurrent calls.
 * - Stopping early (break, throw) waits for the fetch in flight, then closes the inner
 *   iterator, so a cursor is closed once, after its last use.
 *
 * @example
 * declare const source: Source;
 * declare function load(batch: SourceBatch): Promise<void>;
 * for await (const batch of readAhead(source.read('orders'), 1)) await load(batch); // the next batch is fetched meanwhile
 */
export async function* readAhead<T>(batches: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const iterator = batches[Symbol.asyncIterator]();
  const ahead: Promise<IteratorResult<T>>[] = [];
  const fetch = () => {
    const previous = ahead.at(-1);
    // After a failure nothing more is asked: the consumer stops at the failure.
    const next: Promise<IteratorResult<T>> = previous
      ? previous.then(
          (r) => (r.done ? r : iterator.next()),
          () => ({ done: true, value: undefined }),
        )
      : iterator.next();
    next.catch(() => {});
    ahead.push(next);
  };
  try {
    for (;;) {
      if (ahead.length === 0) fetch();
      const next = await ahead.shift()!;
      if (next.done) return;
      while (ahead.length < depth) fetch();
      yield next.value;
    }
  } finally {
    await Promise.allSettled(ahead);
    await iterator.return?.();
  }
}
