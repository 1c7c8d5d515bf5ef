import { generateKeyPairSync } from 'node:crypto';
import { createManualClock } from '@ghcr/oci-types';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../simulation.js';
import { libtrustKeyId } from './tokens.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function decode(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('JWT registry tokens (tokenSigning)', () => {
  it('issues RS256 JWTs in the distribution token format that the simulation accepts', async () => {
    const clock = createManualClock(Date.UTC(2026, 5, 1));
    const simulation = createSimulation({
      profile: 'distribution',
      registryUrl: 'https://registry.test',
      clock,
      tokenTtlSeconds: 120,
      tokenSigning: { privateKey: pem, issuer: 'test-issuer' },
    });
    simulation.createUser('octocat');
    const pat = simulation.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    const dispatcher = simulation.dispatcher();
    const response = await request(
      'https://registry.test/token?service=docker-registry.test&scope=repository:octocat/app:pull,push',
      { dispatcher, headers: { authorization: `Basic ${Buffer.from(`x:${pat}`).toString('base64')}` } },
    );
    const { token } = (await response.body.json()) as { token: string };
    const [header, payload, signature] = token.split('.');
    expect(decode(header)).toEqual({ typ: 'JWT', alg: 'RS256', kid: libtrustKeyId(publicKey) });
    const claims = decode(payload);
    expect(claims).toMatchObject({
      iss: 'test-issuer',
      sub: 'octocat',
      aud: 'docker-registry.test',
      iat: Date.UTC(2026, 5, 1) / 1000,
      exp: Date.UTC(2026, 5, 1) / 1000 + 120,
      access: [{ type: 'repository', name: 'octocat/app', actions: ['pull', 'push'] }],
    });
    expect(typeof claims.jti).toBe('string');
    expect(signature?.length).toBeGreaterThan(300);

    const upload = await request('https://registry.test/v2/octocat/app/blobs/uploads/', {
      dispatcher,
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(upload.statusCode).toBe(202);
    await upload.body.dump();

    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, access: [{ type: 'repository', name: 'other/app', actions: ['push'] }] })).toString('base64url')}.${signature}`;
    const refused = await request('https://registry.test/v2/other/app/blobs/uploads/', {
      dispatcher,
      method: 'POST',
      headers: { authorization: `Bearer ${tampered}` },
    });
    expect(refused.statusCode).toBe(401);
    await refused.body.dump();

    await clock.advance(121_000);
    const expired = await request('https://registry.test/v2/octocat/app/blobs/uploads/', {
      dispatcher,
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(expired.statusCode).toBe(401);
    await expired.body.dump();
  });

  it('computes the libtrust key id: 12 groups of 4 base32 characters', () => {
    expect(libtrustKeyId(publicKey)).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
  });
});
