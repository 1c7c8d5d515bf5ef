import type { RegistryAccess, RegistryAction, RegistryCredential } from '../auth/tokens.js';
import type { SimulationContext } from '../context.js';
import type { PackageScope } from '../state/records.js';
import { SimulationState } from '../state/simulation-state.js';
import { registryError } from './errors.js';

/**
 * Who is making a registry request, once authorised.
 * @internal
 */
export interface RegistryPrincipal {
  /** The user login; undefined for anonymous access to a public repository. */
  readonly user?: string;
}

/** A user with PAT scopes, or nobody. */
interface Subject {
  readonly user?: string;
  readonly scopes: readonly PackageScope[];
}

function ownerPart(name: string): string | undefined {
  const slash = name.indexOf('/');
  return slash <= 0 ? undefined : name.slice(0, slash);
}

/**
 * The actions `subject` may perform on repository `name` under the simulation's rules: pull of a
 * public repository by anyone (when anonymous pull is on); otherwise `read:packages` (pull),
 * `write:packages` (push), `delete:packages` (delete), each for the owner user or an admin of the
 * owner organisation. Pushing to an unknown owner is allowed (the first push creates it).
 * @internal
 */
export function permittedActions(
  context: SimulationContext,
  subject: Subject,
  name: string,
): Set<RegistryAction> {
  const { state, options } = context;
  const actions = new Set<RegistryAction>();
  if (options.anonymousPull && state.isPublic(name)) actions.add('pull');
  const user = subject.user;
  if (user === undefined) return actions;
  const owner = ownerPart(name);
  let mayAdminister: boolean;
  let ownerKnown: boolean;
  if (owner === undefined) {
    // Single-component names exist only in the distribution profile, open to any user.
    mayAdminister = options.profile === 'distribution';
    ownerKnown = true;
  } else {
    ownerKnown = state.getOwner(owner) !== undefined;
    mayAdminister = ownerKnown ? state.isAdmin(user, owner) : true;
  }
  if (!mayAdminister) return actions;
  if (SimulationState.hasScope(subject.scopes, 'read:packages')) actions.add('pull');
  if (SimulationState.hasScope(subject.scopes, 'write:packages')) actions.add('push');
  if (SimulationState.hasScope(subject.scopes, 'delete:packages') && ownerKnown) actions.add('delete');
  return actions;
}

/**
 * Parses token scopes (`repository:<name>:<a,b>`; several per parameter, space-separated, or
 * several parameters).
 * @internal
 */
export function parseScopes(values: readonly string[]): RegistryAccess[] {
  const out: RegistryAccess[] = [];
  for (const value of values) {
    for (const scope of value.split(' ')) {
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first < 0 || last === first) continue;
      const type = scope.slice(0, first);
      if (type !== 'repository') continue;
      const name = scope.slice(first + 1, last);
      const actions = scope
        .slice(last + 1)
        .split(',')
        .map((action) => (action === '*' ? 'delete' : action))
        .filter(
          (action): action is RegistryAction => action === 'pull' || action === 'push' || action === 'delete',
        );
      out.push({ type: 'repository', name, actions: [...new Set(actions)] });
    }
  }
  return out;
}

/**
 * The `WWW-Authenticate` challenge for a request needing `actions` on `name` (or the base
 * endpoint when `name` is undefined).
 * @internal
 */
export function challenge(
  context: SimulationContext,
  name: string | undefined,
  actions: readonly RegistryAction[],
  error?: 'insufficient_scope' | 'invalid_token',
): string {
  const { options } = context;
  let header = `Bearer realm="${options.tokenUrl}",service="${options.tokenService}"`;
  if (name !== undefined) {
    header += `,scope="repository:${name}:${actions.join(',')}"`;
  } else if (options.profile === 'ghcr') {
    header += ',scope="repository:user/image:pull"';
  }
  if (error !== undefined) header += `,error="${error}"`;
  return header;
}

function unauthorized(
  context: SimulationContext,
  name: string | undefined,
  actions: readonly RegistryAction[],
  error?: 'insufficient_scope' | 'invalid_token',
): Response {
  return registryError(401, 'UNAUTHORIZED', {
    ...(name === undefined
      ? {}
      : { detail: actions.map((action) => ({ Type: 'repository', Class: '', Name: name, Action: action })) }),
    headers: { 'www-authenticate': challenge(context, name, actions, error) },
  });
}

/**
 * Authorises a registry request: returns the principal, or the 401/403 response to send.
 * `name` undefined means the base endpoint `/v2/` (any valid credential passes).
 * @internal
 */
export function authorize(
  context: SimulationContext,
  request: Request,
  name: string | undefined,
  actions: readonly RegistryAction[],
): RegistryPrincipal | Response {
  const credential: RegistryCredential = context.tokens.registryCredential(
    request.headers.get('authorization'),
  );
  const ghcr = context.options.profile === 'ghcr';
  switch (credential.kind) {
    case 'anonymous':
      return unauthorized(context, name, actions);
    case 'invalid':
      if (credential.reason === 'basic' && ghcr) {
        return registryError(403, 'DENIED', { message: 'invalid token' });
      }
      return unauthorized(
        context,
        name,
        actions,
        credential.reason === 'basic' ? undefined : 'invalid_token',
      );
    case 'pat': {
      if (!ghcr) return unauthorized(context, name, actions, 'invalid_token');
      if (name === undefined) return { user: credential.user };
      const allowed = permittedActions(context, { user: credential.user, scopes: credential.scopes }, name);
      if (actions.every((action) => allowed.has(action))) return { user: credential.user };
      return unauthorized(context, name, actions, 'insufficient_scope');
    }
    case 'token': {
      const { claims } = credential;
      const principal: RegistryPrincipal = claims.user === undefined ? {} : { user: claims.user };
      if (name === undefined) return principal;
      const granted = new Set<RegistryAction>();
      for (const access of claims.access)
        if (access.name === name) for (const action of access.actions) granted.add(action);
      if (actions.every((action) => granted.has(action))) return principal;
      return unauthorized(context, name, actions, 'insufficient_scope');
    }
  }
}

/**
 * True when `request`'s credential may pull `name` (used to decide whether a cross-repository
 * mount source is readable).
 * @internal
 */
export function mayPull(context: SimulationContext, request: Request, name: string): boolean {
  const result = authorize(context, request, name, ['pull']);
  return !(result instanceof Response);
}
