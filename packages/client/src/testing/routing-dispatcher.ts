/**
 * Test helper: one undici dispatcher over several in-process simulations, chosen by the request's
 * origin, so one client can reach "several registries" without a network. Not part of the
 * published API.
 */
import { Dispatcher } from 'undici';

/** @internal */
export class RoutingDispatcher extends Dispatcher {
  readonly #routes: ReadonlyMap<string, Dispatcher>;

  /** `routes`: origin (`https://ghcr.io`) → the dispatcher that answers it. */
  constructor(routes: Readonly<Record<string, Dispatcher>>) {
    super();
    this.#routes = new Map(
      Object.entries(routes).map(([origin, dispatcher]) => [new URL(origin).origin, dispatcher]),
    );
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = new URL(String(options.origin)).origin;
    const target = this.#routes.get(origin);
    if (target === undefined) {
      throw new Error(
        `no simulated registry answers ${origin}${options.path} (known: ${[...this.#routes.keys()].join(', ')})`,
      );
    }
    return target.dispatch(options, handler);
  }
}
