'use strict';
// The part of undici the `ghcr` executable uses, for its bundle (tsup.config.ts maps `undici` here):
// the Agent, and `request` over undici's dispatcher API. undici's index also loads fetch, WebSocket,
// EventSource, the cache and the mocks, which no command uses: about half of its code, compiled and
// run at every start. The library packages import undici itself; this file is only for the bundle.
const Agent = require('undici/lib/dispatcher/agent.js');
const Dispatcher = require('undici/lib/dispatcher/dispatcher.js');
const api = require('undici/lib/api/index.js');
const errors = require('undici/lib/core/errors.js');
const coreUtil = require('undici/lib/core/util.js');

const { InvalidArgumentError } = errors;

// What undici's index does, so that `dispatcher.request(...)` works on an Agent of this copy too.
Object.assign(Dispatcher.prototype, api);

/**
 * `undici.request(url, { dispatcher, ...options })` for the way ghcr calls it: a whole URL and an
 * explicit dispatcher (ghcr never uses undici's global one).
 */
function request(url, options) {
  const { dispatcher, ...rest } = options ?? {};
  if (dispatcher === undefined) throw new InvalidArgumentError('ghcr: request() needs a dispatcher');
  const target = typeof url === 'string' ? new URL(url) : url;
  return api.request.call(dispatcher, {
    ...rest,
    origin: target.origin,
    path: target.search ? `${target.pathname}${target.search}` : target.pathname,
    method: rest.method ?? (rest.body ? 'PUT' : 'GET'),
  });
}

// `errors` and `util` as undici's index exports them (the simulation, bundled for `ghcr serve`, uses
// both); both modules are loaded by the Agent anyway.
const util = { parseHeaders: coreUtil.parseHeaders, headerNameToString: coreUtil.headerNameToString };

module.exports = { Agent, Dispatcher, errors, request, util };
