import { GhcrErrorCode, ProtocolError } from '@ghcr/oci-types';
import type { TransportResponse } from '@ghcr/transport';
import { header, release } from './context.js';

/**
 * Reads a response body of at most `maxBytes`: a larger `Content-Length` is refused before
 * reading, and reading stops (the connection is dropped) as soon as the body goes past the cap.
 * @throws ProtocolError `GHCR_MANIFEST_TOO_LARGE`.
 * @internal
 */
export async function readCapped(
  response: TransportResponse,
  maxBytes: number,
  what: string,
  advice = 'registries refuse manifests this large (GHCR and distribution cap them at 4 MiB). Raise maxManifestBytes only if you trust the source',
): Promise<Uint8Array> {
  const declared = Number(header(response, 'content-length') ?? Number.NaN);
  if (Number.isSafeInteger(declared) && declared > maxBytes) {
    release(response.body);
    throw tooLarge(what, `${declared}`, maxBytes, advice);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body) {
      total += chunk.byteLength;
      if (total > maxBytes) throw tooLarge(what, `more than ${maxBytes}`, maxBytes, advice);
      chunks.push(chunk);
    }
  } finally {
    release(response.body);
  }
  return Buffer.concat(chunks);
}

function tooLarge(what: string, size: string, maxBytes: number, advice: string): ProtocolError {
  return new ProtocolError(`${what} is ${size} bytes, over the ${maxBytes}-byte limit; ${advice}`, {
    code: GhcrErrorCode.MANIFEST_TOO_LARGE,
  });
}
