// Type tests, checked by `tsc --noEmit` (the package's typecheck): the documented interfaces and
// the zod schemas accept exactly the same options. A key only in the schema, or only in an
// interface, fails `toEqualTypeOf` on the key sets; a property typed differently fails `toExtend`
// in one direction or the other.
import { expectTypeOf } from 'vitest';
import type * as z from 'zod';
import type {
  SimulationDockerHubOptions,
  SimulationOptions,
  SimulationTokenSigningOptions,
  simulationOptionsSchema,
} from './options.js';
import type {
  RecordingDispatcherOptions,
  recordingDispatcherOptionsSchema,
} from './record/recording-dispatcher.js';
import type { ReplayDispatcherOptions, replayDispatcherOptionsSchema } from './record/replay-dispatcher.js';

// The interfaces take readonly arrays (a caller may pass a frozen list); a schema's input type
// says mutable arrays. The same elements, so compare with the arrays made mutable.
type MutableArrays<T> = {
  [K in keyof T]: T[K] extends readonly (infer E)[] | undefined ? E[] | Exclude<T[K], readonly E[]> : T[K];
};

type Input = z.input<typeof simulationOptionsSchema>;
expectTypeOf<keyof Input>().toEqualTypeOf<keyof SimulationOptions>();
expectTypeOf<Omit<Input, 'dockerhub'>>().toExtend<Omit<SimulationOptions, 'dockerhub'>>();
expectTypeOf<Omit<SimulationOptions, 'dockerhub'>>().toExtend<Omit<Input, 'dockerhub'>>();

type DockerHubInput = NonNullable<Input['dockerhub']>;
expectTypeOf<keyof DockerHubInput>().toEqualTypeOf<keyof SimulationDockerHubOptions>();
expectTypeOf<DockerHubInput>().toExtend<SimulationDockerHubOptions>();
expectTypeOf<MutableArrays<SimulationDockerHubOptions>>().toExtend<DockerHubInput>();

type TokenSigningInput = NonNullable<Input['tokenSigning']>;
expectTypeOf<keyof TokenSigningInput>().toEqualTypeOf<keyof SimulationTokenSigningOptions>();
expectTypeOf<TokenSigningInput>().toExtend<SimulationTokenSigningOptions>();
expectTypeOf<SimulationTokenSigningOptions>().toExtend<TokenSigningInput>();

type RecordingInput = z.input<typeof recordingDispatcherOptionsSchema>;
expectTypeOf<keyof RecordingInput>().toEqualTypeOf<keyof RecordingDispatcherOptions>();
expectTypeOf<RecordingInput>().toExtend<RecordingDispatcherOptions>();
expectTypeOf<RecordingDispatcherOptions>().toExtend<RecordingInput>();

type ReplayInput = z.input<typeof replayDispatcherOptionsSchema>;
expectTypeOf<keyof ReplayInput>().toEqualTypeOf<keyof ReplayDispatcherOptions>();
expectTypeOf<ReplayInput>().toExtend<ReplayDispatcherOptions>();
expectTypeOf<ReplayDispatcherOptions>().toExtend<ReplayInput>();

// Under `exactOptionalPropertyTypes`, every optional option accepts an explicit `undefined`.
expectTypeOf<{ [K in keyof SimulationOptions]-?: undefined }>().toExtend<SimulationOptions>();
expectTypeOf<{
  [K in keyof SimulationDockerHubOptions]-?: undefined;
}>().toExtend<SimulationDockerHubOptions>();
expectTypeOf<{
  redact: undefined;
  clock: undefined;
  bodyThresholdBytes: undefined;
  closeDispatcher: undefined;
}>().toExtend<Partial<RecordingDispatcherOptions>>();
expectTypeOf<{
  mode: undefined;
  allowRepeats: undefined;
  redact: undefined;
  baseDirectory: undefined;
}>().toExtend<Partial<ReplayDispatcherOptions>>();
