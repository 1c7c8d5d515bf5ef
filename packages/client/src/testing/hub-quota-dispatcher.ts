/**
 * Test helper: Docker Hub's pull quota in front of a simulated registry. Every manifest response
 * carries `ratelimit-limit: L;w=W` and `ratelimit-remaining: N;w=W`; a manifest GET spends one
 * pull, a HEAD none (docker/docs "usage/pulls"); with none left a manifest GET gets 429
 * TOOMANYREQUESTS. The window restarts W seconds after its first pull, on the simulation's clock.
 * Not part of the published API.
 */
import type { Simulation } from '@ghcr/simulation';
import { Dispatcher } from 'undici';

const MANIFEST_PATH = /^\/v2\/.+\/manifests\/[^/?]+(\?.*)?$/;

/** @internal */
export class HubQuotaDispatcher extends Dispatcher {
  readonly #inner: Dispatcher;
  readonly #sim: Simulation;
  readonly #limit: number;
  readonly #windowSeconds: number;
  #remaining: number;
  #windowStart: number | undefined;
  /** Manifest GETs that spent a pull (429s excluded). */
  counted = 0;
  /** Manifest GETs refused with 429. */
  refused = 0;

  constructor(sim: Simulation, options: { readonly limit: number; readonly windowSeconds: number }) {
    super();
    this.#sim = sim;
    this.#inner = sim.dispatcher();
    this.#limit = options.limit;
    this.#windowSeconds = options.windowSeconds;
    this.#remaining = options.limit;
  }

  /** Pulls left in the current window. */
  get remaining(): number {
    this.#roll();
    return this.#remaining;
  }

  /** Sets the pulls left (a quota others already spent). */
  set remaining(value: number) {
    this.#remaining = value;
  }

  #roll(): void {
    if (
      this.#windowStart !== undefined &&
      this.#sim.clock.now() >= this.#windowStart + this.#windowSeconds * 1000
    ) {
      this.#windowStart = undefined;
      this.#remaining = this.#limit;
    }
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const manifest = MANIFEST_PATH.test(options.path);
    if (manifest) {
      this.#roll();
      if (options.method === 'GET') {
        if (this.#remaining <= 0) {
          this.refused += 1;
          this.#sim.faults.add({
            method: 'GET',
            path: `^${options.path.split('?')[0]?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
            count: 1,
            action: {
              type: 'status',
              status: 429,
              body: JSON.stringify({
                errors: [
                  {
                    code: 'TOOMANYREQUESTS',
                    message: 'You have reached your unauthenticated pull rate limit.',
                  },
                ],
              }),
            },
          });
        } else {
          this.#windowStart ??= this.#sim.clock.now();
          this.#remaining -= 1;
          this.counted += 1;
        }
      }
    }
    if (!manifest) return this.#inner.dispatch(options, handler);
    const headers: Record<string, string> = {
      'ratelimit-limit': `${this.#limit};w=${this.#windowSeconds}`,
      'ratelimit-remaining': `${Math.max(0, this.#remaining)};w=${this.#windowSeconds}`,
      'docker-ratelimit-source': '127.0.0.1',
    };
    return this.#inner.dispatch(options, withHeaders(handler, headers));
  }
}

/** The handler, with `extra` added to the response headers (new and legacy undici handler styles). */
function withHeaders(
  handler: Dispatcher.DispatchHandler,
  extra: Readonly<Record<string, string>>,
): Dispatcher.DispatchHandler {
  const onResponseStart: Dispatcher.DispatchHandler['onResponseStart'] = (
    controller,
    status,
    headers,
    message,
  ) => handler.onResponseStart?.(controller, status, { ...headers, ...extra }, message);
  const onHeaders: Dispatcher.DispatchHandler['onHeaders'] = (status, rawHeaders, resume, message) =>
    handler.onHeaders?.(
      status,
      [
        ...rawHeaders,
        ...Object.entries(extra).flatMap(([name, value]) => [Buffer.from(name), Buffer.from(value)]),
      ],
      resume,
      message,
    ) ?? true;
  // Every other member is the handler's own, called on the handler (it may keep private fields).
  return new Proxy(handler, {
    get(target, property) {
      if (property === 'onResponseStart' && typeof target.onResponseStart === 'function')
        return onResponseStart;
      if (property === 'onHeaders' && typeof target.onHeaders === 'function') return onHeaders;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
