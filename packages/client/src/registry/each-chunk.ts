import { finished, Readable } from 'node:stream';
import type { ViewConsumer } from '@ghcr/transport';

/**
 * A source that can hand its bytes on as views of a buffer it reuses: a response body of the
 * transport's own connections, or a blob stream reading one (`ResponseBody.eachView`).
 * @internal
 */
export interface ViewSource {
  eachView(onView: ViewConsumer): Promise<void>;
}

/** True when `source` has `eachView`. @internal */
export function hasViews(source: object): source is ViewSource {
  return typeof (source as Partial<ViewSource>).eachView === 'function';
}

/**
 * Calls `onChunk` with each chunk of `source` in order and resolves at its end. A Readable is read
 * through its `data` events: each chunk the stream is given is handed on as it is, where async
 * iteration (`read()`) would first concatenate every chunk buffered since the last read into a
 * new buffer (a copy of most of the blob when the disk is slower than the socket). While a promise
 * `onChunk` returned is pending, the stream is paused, and this resolves only after the last one
 * settled. Rejects with the stream's error, with `onChunk`'s (the stream is then destroyed), or
 * when the stream closes before its end.
 * @internal
 */
export function eachChunk(
  source: Readable | AsyncIterable<Uint8Array>,
  onChunk: ViewConsumer,
): Promise<void> {
  if (!(source instanceof Readable)) {
    return (async () => {
      for await (const chunk of source) await onChunk(chunk);
    })();
  }
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      source.destroy();
      reject(error);
    };
    // What the last chunk's onChunk returned: the stream can end (its last chunk was read) while
    // that is still pending, and this resolves only after it.
    let pending: Promise<void> | undefined;
    source.on('data', (chunk: Uint8Array) => {
      if (failed) return;
      try {
        pending = onChunk(chunk);
      } catch (error) {
        fail(error);
        return;
      }
      if (pending === undefined) return;
      source.pause();
      pending.then(() => {
        if (!failed) source.resume();
      }, fail);
    });
    finished(source, { writable: false }, (error) => {
      if (failed) return;
      if (error !== undefined && error !== null) {
        failed = true;
        reject(error);
        return;
      }
      Promise.resolve(pending).then(() => {
        if (failed) return;
        failed = true;
        resolve();
      }, fail);
    });
  });
}
