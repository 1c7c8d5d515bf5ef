import { ConfigError } from '@ghcr/oci-types';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { resolveSimulationOptions, type SimulationOptions } from './options.js';
import { createRecordingDispatcher, type RecordingDispatcherOptions } from './record/recording-dispatcher.js';
import { createReplayDispatcher, type ReplayDispatcherOptions } from './record/replay-dispatcher.js';

function configErrorOf(attempt: () => unknown): ConfigError {
  try {
    attempt();
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('the options were accepted');
}

describe('unknown simulation option keys are refused by name', () => {
  it('names a misspelt top-level key and the key it is a typo of', () => {
    const error = configErrorOf(() => resolveSimulationOptions({ profil: 'dockerhub' } as SimulationOptions));
    expect(error.message).toMatch(
      /^unknown simulation option "profil" \(did you mean "profile"\?\): the valid ones are profile, registryUrl, /,
    );
    expect(error.field).toBe('profil');
  });

  it('names keys inside dockerhub, tokenSigning, apiRateLimit and store with their paths', () => {
    expect(
      configErrorOf(() => resolveSimulationOptions({ dockerhub: { windowSecond: 60 } } as SimulationOptions))
        .message,
    ).toMatch(
      /^unknown simulation option "dockerhub\.windowSecond" \(did you mean "dockerhub\.windowSeconds"\?\)/,
    );
    expect(
      configErrorOf(() =>
        resolveSimulationOptions({ tokenSigning: { privateKey: 'k', isuer: 'x' } } as SimulationOptions),
      ).field,
    ).toBe('tokenSigning.isuer');
    expect(
      configErrorOf(() =>
        resolveSimulationOptions({ apiRateLimit: { limit: 1, reset: 2 } } as SimulationOptions),
      ).field,
    ).toBe('apiRateLimit.reset');
    expect(
      configErrorOf(() =>
        resolveSimulationOptions({
          store: { kind: 'disk', directory: '/x', dir: '/y' },
        } as SimulationOptions),
      ).field,
    ).toBe('store.dir');
  });

  it('still accepts undefined for every optional option', () => {
    expect(
      resolveSimulationOptions({ profile: undefined, clock: undefined, dockerhub: undefined }).profile,
    ).toBe('ghcr');
  });
});

describe('unknown record/replay option keys are refused by name', () => {
  it('createRecordingDispatcher names the key and its nearest valid one', () => {
    const agent = new Agent();
    const error = configErrorOf(() =>
      createRecordingDispatcher({
        dispatcher: agent,
        cassette: 'c.json',
        bodyTreshold: 1,
      } as unknown as RecordingDispatcherOptions),
    );
    expect(error.message).toMatch(
      /^unknown createRecordingDispatcher\(\) option "bodyTreshold": the valid ones are dispatcher, cassette, /,
    );
    const typo = configErrorOf(() =>
      createRecordingDispatcher({
        dispatcher: agent,
        cassette: 'c.json',
        redcat: () => undefined,
      } as unknown as RecordingDispatcherOptions),
    );
    expect(typo.message).toMatch(
      /^unknown createRecordingDispatcher\(\) option "redcat" \(did you mean "redact"\?\)/,
    );
    void agent.close();
  });

  it('createReplayDispatcher names the key and its nearest valid one', () => {
    const error = configErrorOf(() =>
      createReplayDispatcher({
        cassette: 'never-read.json',
        allowRepeat: true,
      } as unknown as ReplayDispatcherOptions),
    );
    expect(error.message).toMatch(
      /^unknown createReplayDispatcher\(\) option "allowRepeat" \(did you mean "allowRepeats"\?\): the valid ones are cassette, mode, /,
    );
    expect(error.field).toBe('allowRepeat');
  });
});
