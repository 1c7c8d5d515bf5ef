/**
 * Record and replay: a recording undici Dispatcher that wraps any dispatcher and writes redacted
 * cassettes, and a replay Dispatcher that serves them offline.
 */

export { DEFAULT_BODY_THRESHOLD_BYTES } from './body-capture.js';
export {
  CASSETTE_FORMAT,
  CASSETTE_VERSION,
  type Cassette,
  type CassetteEntry,
  cassetteSchema,
  type RecordedBody,
  type RecordedError,
  type RecordedHeaders,
  type RecordedRequest,
  type RecordedResponse,
  readCassette,
} from './cassette.js';
export {
  createRecordingDispatcher,
  RecordingDispatcher,
  type RecordingDispatcherOptions,
  type ResolvedRecordingDispatcherOptions,
  recordingDispatcherOptionsSchema,
} from './recording-dispatcher.js';
export { REDACTED_BODY_KEYS, REDACTED_HEADERS, type RedactHook } from './redaction.js';
export {
  createReplayDispatcher,
  ReplayDispatcher,
  type ReplayDispatcherOptions,
  type ResolvedReplayDispatcherOptions,
  replayDispatcherOptionsSchema,
} from './replay-dispatcher.js';
