import { InvalidInputError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import {
  formatScope,
  mergeScopes,
  parseScope,
  parseScopes,
  repositoryScope,
  scopesCover,
  scopesKey,
} from './scope.js';

describe('parseScope', () => {
  it.each([
    ['repository:octo-org/app:pull', { type: 'repository', name: 'octo-org/app', actions: ['pull'] }],
    [
      'repository:octo-org/app:push,pull',
      { type: 'repository', name: 'octo-org/app', actions: ['pull', 'push'] },
    ],
    [
      'repository:localhost:5000/app:pull',
      { type: 'repository', name: 'localhost:5000/app', actions: ['pull'] },
    ],
    ['registry:catalog:*', { type: 'registry', name: 'catalog', actions: ['*'] }],
    ['repository(plugin):vendor/x:pull', { type: 'repository(plugin)', name: 'vendor/x', actions: ['pull'] }],
    ['repository:a/b:pull,pull,,push', { type: 'repository', name: 'a/b', actions: ['pull', 'push'] }],
    [
      'repository:a/b:delete,zap,push,pull',
      { type: 'repository', name: 'a/b', actions: ['pull', 'push', 'delete', 'zap'] },
    ],
  ])('parses %s', (input, expected) => {
    expect(parseScope(input)).toEqual(expected);
  });

  it.each([
    '',
    'repository',
    'repository:a',
    'repository:a:',
    ':a:pull',
    'repo sitory:a:pull',
    'repository::pull',
    'repository:a:,',
  ])('rejects %j with InvalidInputError', (input) => {
    expect(() => parseScope(input)).toThrow(InvalidInputError);
  });

  it('parses a space-separated list', () => {
    expect(parseScopes(' repository:a:pull  repository:b:push ').map(formatScope)).toEqual([
      'repository:a:pull',
      'repository:b:push',
    ]);
    expect(parseScopes('')).toEqual([]);
  });
});

describe('formatScope / repositoryScope', () => {
  it('formats actions in canonical order', () => {
    expect(formatScope({ type: 'repository', name: 'a', actions: ['push', 'delete', 'pull'] })).toBe(
      'repository:a:pull,push,delete',
    );
    expect(formatScope('repository:a:push,pull')).toBe('repository:a:pull,push');
    expect(formatScope(repositoryScope('octo-org/app', ['push', 'pull']))).toBe(
      'repository:octo-org/app:pull,push',
    );
  });
});

describe('mergeScopes / scopesKey', () => {
  it('merges actions of the same resource and sorts resources', () => {
    expect(
      mergeScopes(['repository:b:pull', 'repository:a:push', 'repository:a:pull', 'registry:catalog:*']).map(
        formatScope,
      ),
    ).toEqual(['registry:catalog:*', 'repository:a:pull,push', 'repository:b:pull']);
  });

  it('gives the same key whatever the input order', () => {
    const one = scopesKey(['repository:a:push', 'repository:b:pull', 'repository:a:pull']);
    const two = scopesKey(['repository:b:pull', 'repository:a:pull,push']);
    expect(one).toBe(two);
    expect(one).toBe('repository:a:pull,push repository:b:pull');
    expect(scopesKey([])).toBe('');
  });
});

describe('scopesCover', () => {
  it.each([
    [['repository:a:pull,push'], ['repository:a:pull'], true],
    [['repository:a:pull'], ['repository:a:pull,push'], false],
    [['repository:a:pull'], ['repository:b:pull'], false],
    [['repository:a:*'], ['repository:a:pull,push'], true],
    [['repository:a:pull', 'repository:b:pull'], ['repository:b:pull'], true],
    [['repository:a:pull'], [], true],
    [[], ['repository:a:pull'], false],
  ])('granted %j covers %j: %s', (granted, requested, expected) => {
    expect(scopesCover(granted, requested)).toBe(expected);
  });
});
