/**
 * `@ghcr/auth`: credential providers (environment, Docker config.json and credential helpers,
 * podman auth.json, the GitHub CLI), a `WWW-Authenticate` parser, token scopes, and a scoped,
 * single-flight token manager for ghcr.io and every registry speaking the Docker token protocol.
 *
 * @packageDocumentation
 */

export { anonymousCredentials } from './credentials/anonymous-credentials.js';
export { type ChainCredentialsOptions, chainCredentials } from './credentials/chain-credentials.js';
export {
  type Credential,
  type CredentialProvider,
  type ResolveCredentialOptions,
  type ResolvedCredential,
  secretsOf,
} from './credentials/credential.js';
export { type CredentialHelperOptions, runCredentialHelper } from './credentials/credential-helper.js';
export {
  type DefaultCredentialChainOptions,
  defaultCredentialChain,
} from './credentials/default-credential-chain.js';
export {
  type DockerAuthConfigEnvCredentialsOptions,
  dockerAuthConfigEnvCredentials,
} from './credentials/docker-auth-config-env-credentials.js';
export {
  type DockerConfigCredentialsOptions,
  dockerConfigCredentials,
} from './credentials/docker-config-credentials.js';
export {
  type EnvironmentCredentialsOptions,
  environmentCredentials,
} from './credentials/environment-credentials.js';
export { type GhCliCredentialsOptions, ghCliCredentials } from './credentials/gh-cli-credentials.js';
export {
  type PodmanAuthCredentialsOptions,
  podmanAuthCredentials,
} from './credentials/podman-auth-credentials.js';
export { DOCKER_HUB, normalizeRegistryHost } from './credentials/registry-host.js';
export { type StaticCredentialsOptions, staticCredentials } from './credentials/static-credentials.js';
export {
  type BearerChallenge,
  bearerChallengeOf,
  type Challenge,
  challengesOf,
  type HeadersLike,
  parseWwwAuthenticate,
} from './parse-www-authenticate.js';
export { isLoopbackHost } from './realm.js';
export {
  formatScope,
  mergeScopes,
  parseScope,
  parseScopes,
  repositoryScope,
  type Scope,
  type ScopeInput,
  scopesCover,
  scopesKey,
} from './scope.js';
export {
  type Authorization,
  type AuthorizationKind,
  type AuthorizationRequest,
  createTokenManager,
  type TokenManager,
} from './token-manager.js';
export type {
  TokenCacheHitEvent,
  TokenCacheMissEvent,
  TokenFetchErrorEvent,
  TokenFetchEvent,
  TokenInvalidateEvent,
  TokenManagerEvent,
} from './token-manager-events.js';
export {
  type ResolvedTokenManagerOptions,
  type TokenHttpRequest,
  type TokenHttpResponse,
  type TokenHttpSend,
  type TokenManagerOptions,
  tokenManagerOptionsSchema,
} from './token-manager-options.js';
