import { ProtocolError } from '@ghcr/oci-types';
import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createGhcrClient } from '../client.js';

/** A "registry" address that is really a web site: /v2/… redirects to an HTML page elsewhere. */
function webSite(): MockAgent {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const site = agent.get('https://docker.example');
  for (const method of ['HEAD', 'GET']) {
    site
      .intercept({ path: '/v2/library/alpine/manifests/3', method })
      .reply(301, '', { headers: { location: 'https://www.docker.example/' } })
      .persist();
  }
  const www = agent.get('https://www.docker.example');
  for (const method of ['HEAD', 'GET']) {
    www
      .intercept({ path: '/', method })
      .reply(200, method === 'GET' ? '<!doctype html><title>Docker</title>' : '', {
        headers: { 'content-type': 'text/html; charset=utf-8' },
      })
      .persist();
  }
  return agent;
}

describe('a registry address that answers with a web page', () => {
  it('says a web page answered, and where from, instead of "does not exist"', async () => {
    const client = createGhcrClient({ registry: 'docker.example', dispatcher: webSite() });
    for (const attempt of [
      () => client.manifests.head('library/alpine', '3'),
      () => client.manifests.get('library/alpine', '3'),
      () => client.images.inspect('library/alpine:3'),
    ]) {
      const error = await attempt().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(ProtocolError.isInstance(error)).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain('https://www.docker.example answered 200 with an HTML page, not a manifest');
      expect(message).toContain('check the registry address');
      expect(message).not.toContain('does not exist');
      expect(message).not.toContain('tags.list');
    }
  });
});
