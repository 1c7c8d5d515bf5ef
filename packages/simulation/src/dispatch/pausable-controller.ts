import type { Dispatcher } from 'undici';

/**
 * The controller handed to new-style undici handlers by the in-process dispatchers (the
 * simulation's and the replayer's): `pause`/`resume` gate the body stream (backpressure),
 * `abort` fails the exchange through `onAbort`.
 * @internal
 */
export class PausableController implements Dispatcher.DispatchController {
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;
  #waiters: (() => void)[] = [];
  readonly #onAbort: (reason: Error) => void;

  constructor(onAbort: (reason: Error) => void) {
    this.#onAbort = onAbort;
  }
  get aborted(): boolean {
    return this.#aborted;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get reason(): Error | null {
    return this.#reason;
  }
  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#wake();
    this.#onAbort(reason);
  }
  pause(): void {
    this.#paused = true;
  }
  resume(): void {
    this.#paused = false;
    this.#wake();
  }
  /** Resolves once resumed (or aborted). */
  waitWhilePaused(): Promise<void> {
    if (!this.#paused || this.#aborted) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
