/**
 * The cassette file format: one JSON document listing recorded exchanges in the order they were
 * dispatched. Bodies up to a threshold are inline (UTF-8 text, or base64 when not text); larger
 * ones live in a content-addressed `blobs/` directory beside the cassette, named by digest.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '@ghcr/oci-types';
import * as z from 'zod';
import type { RecordedHeaders } from './headers.js';

/** The value of a cassette's `format` field. @public */
export const CASSETTE_FORMAT = 'ghcr-cassette';
/** The version of the cassette format this package writes and reads. @public */
export const CASSETTE_VERSION = 1;

const headersSchema = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

const inlineBodySchema = z.object({
  size: z.number().int().nonnegative(),
  digest: z.string(),
  encoding: z.enum(['utf8', 'base64']),
  data: z.string(),
  redacted: z.boolean().optional(),
});

const blobBodySchema = z.object({
  size: z.number().int().nonnegative(),
  digest: z.string(),
  /** Path of the body file, relative to the cassette's directory (`blobs/sha256-<hex>`). */
  blob: z.string(),
  redacted: z.boolean().optional(),
});

const bodySchema = z.union([inlineBodySchema, blobBodySchema]);

const requestSchema = z.object({
  method: z.string(),
  url: z.string(),
  headers: headersSchema,
  body: bodySchema.nullable(),
});

const responseSchema = z.object({
  status: z.number().int(),
  statusText: z.string().optional(),
  headers: headersSchema,
  body: bodySchema,
  trailers: headersSchema.optional(),
});

const errorSchema = z.object({
  /** Where the exchange failed: before any response, or while its body was streaming. */
  phase: z.enum(['request', 'response']),
  name: z.string(),
  code: z.string().optional(),
  message: z.string(),
});

const entrySchema = z.object({
  seq: z.number().int().nonnegative(),
  request: requestSchema,
  response: responseSchema.optional(),
  error: errorSchema.optional(),
});

/**
 * The zod schema of a cassette file.
 * @public
 */
export const cassetteSchema = z.object({
  format: z.literal(CASSETTE_FORMAT),
  version: z.literal(CASSETTE_VERSION),
  recordedAt: z.string(),
  entries: z.array(entrySchema),
});

/**
 * A recorded body. Inline bodies carry `data` (UTF-8 text, or base64 when the bytes are not
 * text); large bodies carry `blob`, a path relative to the cassette's directory. `digest` and
 * `size` describe the stored (redacted) bytes; `redacted` is true when redaction changed them.
 * @public
 */
export type RecordedBody = z.infer<typeof bodySchema>;
/** A recorded request (URL and headers already redacted). @public */
export type RecordedRequest = z.infer<typeof requestSchema>;
/** A recorded response (headers already redacted). @public */
export type RecordedResponse = z.infer<typeof responseSchema>;
/** A failure recorded instead of, or in the middle of, a response. @public */
export type RecordedError = z.infer<typeof errorSchema>;
/**
 * One recorded exchange: the request, and the response or the error (or both, when the response
 * body failed mid-stream).
 * @public
 */
export type CassetteEntry = z.infer<typeof entrySchema>;
/** A cassette: the whole recorded session. @public */
export type Cassette = z.infer<typeof cassetteSchema>;

/** Re-exported so cassette users need one import. @public */
export type { RecordedHeaders };

/**
 * The `blobs/` directory that holds a cassette's large bodies.
 * @internal
 */
export function blobsDirectoryFor(cassettePath: string): string {
  return join(dirname(resolve(cassettePath)), 'blobs');
}

/**
 * Reads and validates a cassette file.
 * @throws ConfigError when the file is missing, is not JSON, or is not a cassette of this version.
 * @public
 */
export function readCassette(path: string): Cassette {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `cannot read cassette "${path}": ${(error as Error).message}; record it first with createRecordingDispatcher()`,
      { cause: error, field: 'cassette' },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`cassette "${path}" is not valid JSON; re-record it`, {
      cause: error,
      field: 'cassette',
    });
  }
  const parsed = cassetteSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : ` at "${issue.path.join('.')}": ${issue.message}`;
    throw new ConfigError(
      `"${path}" is not a ${CASSETTE_FORMAT} version ${CASSETTE_VERSION} file${where}; re-record it with this version of @ghcr/simulation`,
      { cause: parsed.error, field: 'cassette' },
    );
  }
  return parsed.data;
}

/**
 * Writes a cassette atomically (a temporary file renamed over the target).
 * @internal
 */
export async function writeCassette(path: string, cassette: Cassette): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(cassette, null, 2)}\n`, 'utf8');
  await rename(temporary, path);
}
