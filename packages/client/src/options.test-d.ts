// Type tests, checked by `tsc --noEmit` (the package's typecheck): the documented interfaces and
// the zod schemas accept exactly the same options. A key only in the schema, or only in an
// interface, fails `toEqualTypeOf` on the key sets; a property typed differently fails `toExtend`
// in one direction or the other.

import type { MutableArrays } from '@ghcr/test-support';
import type { TransportRequest } from '@ghcr/transport';
import { expectTypeOf } from 'vitest';
import type * as z from 'zod';
import type { CopyOptions } from './content/copy.js';
import type {
  BuildRegistryGraphOptions,
  buildRegistryGraphOptionsSchema,
} from './github/retention/build-graph.js';
import type { ExecutePlanOptions, executePlanOptionsSchema } from './github/retention/execute.js';
import type { RetentionPolicy, retentionPolicySchema } from './github/retention/policy.js';
import type { VersionsOptions, versionsOptionsSchema } from './github/versions/versions-options.js';
import type {
  CodeScanningOptions,
  codeScanningOptionsSchema,
  GateOptions,
  gateOptionsSchema,
} from './github/vulnerabilities/gate.js';
import type { InspectOptions } from './images/inspect.js';
import type { GhcrClientOptions, ghcrClientOptionsSchema, RegistrySettingsOverride } from './options.js';
import type { UploadBlobOptions } from './registry/blob-upload.js';
import type { SignaturePolicy, signaturePolicySchema } from './signatures/policy.js';

type Input = z.input<typeof ghcrClientOptionsSchema>;

expectTypeOf<keyof Input>().toEqualTypeOf<keyof GhcrClientOptions>();
expectTypeOf<Input>().toExtend<GhcrClientOptions>();
expectTypeOf<GhcrClientOptions>().toExtend<Input>();

type OverrideInput = NonNullable<Input['registries']>[string];
expectTypeOf<keyof OverrideInput>().toEqualTypeOf<keyof RegistrySettingsOverride>();
expectTypeOf<OverrideInput>().toExtend<RegistrySettingsOverride>();
expectTypeOf<RegistrySettingsOverride>().toExtend<OverrideInput>();

// Under `exactOptionalPropertyTypes`, every option accepts an explicit `undefined` (a value passed
// through from an optional of the caller's own).
expectTypeOf<{
  [K in keyof GhcrClientOptions]-?: undefined;
}>().toExtend<GhcrClientOptions>();

// The key check has teeth: one key more, or one fewer, is not equal.
expectTypeOf<keyof Input>().not.toEqualTypeOf<keyof (GhcrClientOptions & { readonly registy?: string })>();
expectTypeOf<keyof Omit<Input, 'clock'>>().not.toEqualTypeOf<keyof GhcrClientOptions>();

type PolicyInput = z.input<typeof retentionPolicySchema>;
expectTypeOf<keyof PolicyInput>().toEqualTypeOf<keyof RetentionPolicy>();
expectTypeOf<PolicyInput>().toExtend<RetentionPolicy>();
expectTypeOf<MutableArrays<RetentionPolicy>>().toExtend<PolicyInput>();

type GateInput = z.input<typeof gateOptionsSchema>;
expectTypeOf<keyof GateInput>().toEqualTypeOf<keyof GateOptions>();
expectTypeOf<GateInput>().toExtend<GateOptions>();
expectTypeOf<MutableArrays<GateOptions>>().toExtend<GateInput>();

type CodeScanningInput = z.input<typeof codeScanningOptionsSchema>;
expectTypeOf<keyof CodeScanningInput>().toEqualTypeOf<keyof CodeScanningOptions>();
expectTypeOf<CodeScanningInput>().toExtend<CodeScanningOptions>();
expectTypeOf<CodeScanningOptions>().toExtend<CodeScanningInput>();

expectTypeOf<{ [K in keyof RetentionPolicy]-?: undefined }>().toExtend<RetentionPolicy>();
expectTypeOf<{ [K in keyof GateOptions]-?: undefined }>().toExtend<GateOptions>();
expectTypeOf<{ signal: AbortSignal | undefined }>().toExtend<GateOptions>();

// Every optional `signal` of a public option type accepts an explicit `undefined`: a caller can pass
// its own optional signal straight through under `exactOptionalPropertyTypes`.
type SignalOption<T extends { readonly signal?: unknown }> = Pick<T, 'signal'>;
const maybeSignal = (): AbortSignal | undefined => undefined;
expectTypeOf<{ signal: AbortSignal | undefined }>().toExtend<SignalOption<CopyOptions>>();
expectTypeOf<{ signal: AbortSignal | undefined }>().toExtend<SignalOption<InspectOptions>>();
expectTypeOf<{ signal: AbortSignal | undefined }>().toExtend<SignalOption<UploadBlobOptions>>();
expectTypeOf<{ signal: AbortSignal | undefined }>().toExtend<SignalOption<BuildRegistryGraphOptions>>();
expectTypeOf<{ signal: AbortSignal | undefined }>().toExtend<SignalOption<GateOptions>>();
expectTypeOf<{ signal: AbortSignal | undefined }>().toExtend<SignalOption<TransportRequest>>();
export const passesItsOwnSignal: CopyOptions = { signal: maybeSignal() };

type ExecuteInput = z.input<typeof executePlanOptionsSchema>;
expectTypeOf<keyof ExecuteInput>().toEqualTypeOf<keyof ExecutePlanOptions>();
expectTypeOf<ExecuteInput>().toExtend<ExecutePlanOptions>();
expectTypeOf<ExecutePlanOptions>().toExtend<ExecuteInput>();

type GraphInput = z.input<typeof buildRegistryGraphOptionsSchema>;
expectTypeOf<keyof GraphInput>().toEqualTypeOf<keyof BuildRegistryGraphOptions>();
expectTypeOf<GraphInput>().toExtend<BuildRegistryGraphOptions>();
expectTypeOf<MutableArrays<BuildRegistryGraphOptions>>().toExtend<GraphInput>();

type SignaturePolicyInput = z.input<typeof signaturePolicySchema>;
expectTypeOf<keyof SignaturePolicyInput>().toEqualTypeOf<keyof SignaturePolicy>();
expectTypeOf<SignaturePolicyInput>().toExtend<SignaturePolicy>();
expectTypeOf<SignaturePolicy>().toExtend<SignaturePolicyInput>();

type VersionsInput = z.input<typeof versionsOptionsSchema>;
expectTypeOf<keyof VersionsInput>().toEqualTypeOf<keyof VersionsOptions>();
expectTypeOf<VersionsInput>().toExtend<VersionsOptions>();
expectTypeOf<VersionsOptions>().toExtend<VersionsInput>();
