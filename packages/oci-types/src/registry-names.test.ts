import { describe, expect, it } from 'vitest';
import { formatReference, parseReference } from './reference.js';
import {
  canonicalRegistry,
  canonicalRepository,
  DOCKER_HUB_ALIASES,
  isDockerHub,
  registryApiHost,
} from './registry-names.js';

describe('Docker Hub addressing', () => {
  it.each(DOCKER_HUB_ALIASES)('%s is Docker Hub, served from registry-1.docker.io', (alias) => {
    expect(isDockerHub(alias)).toBe(true);
    expect(isDockerHub(`${alias.toUpperCase()}:443`)).toBe(true);
    expect(canonicalRegistry(alias)).toBe('docker.io');
    expect(registryApiHost(alias)).toBe('registry-1.docker.io');
  });

  it('leaves other registries alone', () => {
    expect(isDockerHub('ghcr.io')).toBe(false);
    expect(isDockerHub('docker.io:5000')).toBe(false);
    expect(canonicalRegistry('GHCR.io')).toBe('ghcr.io');
    expect(registryApiHost('quay.io')).toBe('quay.io');
    expect(registryApiHost('localhost:5000')).toBe('localhost:5000');
    expect(canonicalRepository('ghcr.io', 'alpine')).toBe('alpine');
  });

  it('puts one-component Hub names under library/', () => {
    expect(canonicalRepository('docker.io', 'alpine')).toBe('library/alpine');
    expect(canonicalRepository('docker.io', 'bitnami/redis')).toBe('bitnami/redis');
  });

  it.each([
    ['docker.io/alpine:3', 'docker.io/library/alpine:3'],
    ['docker.io/library/alpine:3', 'docker.io/library/alpine:3'],
    ['index.docker.io/alpine', 'docker.io/library/alpine'],
    [
      `registry-1.docker.io/library/alpine@sha256:${'a'.repeat(64)}`,
      `docker.io/library/alpine@sha256:${'a'.repeat(64)}`,
    ],
    ['registry.hub.docker.com/bitnami/redis:7', 'docker.io/bitnami/redis:7'],
  ])('parses %s as %s and prints it back in the form people know', (input, printed) => {
    expect(formatReference(parseReference(input))).toBe(printed);
  });

  it('keeps a reference without a registry on ghcr.io', () => {
    expect(parseReference('alpine:3')).toEqual({ registry: 'ghcr.io', repository: 'alpine', tag: '3' });
  });
});
