import type { ClientEventEmitter, ProgressEvent } from './events.js';

/**
 * What a {@link ProgressReporter} needs of the client: its events and how often to emit.
 * @internal
 */
export interface ProgressContext {
  readonly events: Pick<ClientEventEmitter, 'emit' | 'has'>;
  readonly limits: { readonly progressIntervalBytes: number };
}

/**
 * Emits `progress` events for one blob, at most once per `progressIntervalBytes`, always at the end
 * and whenever the count goes back (an upload that had to restart its session).
 * @internal
 */
export class ProgressReporter {
  readonly #context: ProgressContext;
  readonly #base: Omit<ProgressEvent, 'bytesDone'>;
  #lastEmitted = -1;
  #done = 0;

  constructor(context: ProgressContext, base: Omit<ProgressEvent, 'bytesDone'>) {
    this.#context = context;
    this.#base = base;
  }

  /** Bytes counted so far. */
  get done(): number {
    return this.#done;
  }

  /** Sets the byte count; emits when due. */
  report(done: number, force = false): void {
    this.#done = done;
    if (!this.#context.events.has('progress')) return;
    const interval = this.#context.limits.progressIntervalBytes;
    const atEnd = this.#base.bytesTotal !== undefined && done === this.#base.bytesTotal;
    const due =
      force ||
      done < this.#lastEmitted ||
      done - this.#lastEmitted >= interval ||
      (atEnd && done !== this.#lastEmitted);
    if (!due) return;
    this.#lastEmitted = done;
    this.#context.events.emit('progress', { ...this.#base, bytesDone: done });
  }
}
