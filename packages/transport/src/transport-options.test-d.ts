// Type tests, checked by `tsc --noEmit` (the package's typecheck): the documented interfaces and
// the zod schema accept exactly the same options. A key only in the schema, or only in an
// interface, fails `toEqualTypeOf` on the key sets; a property typed differently fails `toExtend`
// in one direction or the other.

import type { MutableArrays } from '@ghcr/test-support';
import { expectTypeOf } from 'vitest';
import type * as z from 'zod';
import type { transportOptionsSchema } from './transport.js';
import type {
  TransportMetricsOptions,
  TransportMiddlewareOptions,
  TransportOptions,
  TransportRateLimitOptions,
  TransportRetryOptions,
} from './transport-options.js';

type Input = z.input<typeof transportOptionsSchema>;
type Element<T> = T extends readonly (infer E)[] ? E : never;
expectTypeOf<keyof Input>().toEqualTypeOf<keyof TransportOptions>();
expectTypeOf<Input>().toExtend<TransportOptions>();
expectTypeOf<MutableArrays<TransportOptions>>().toExtend<Input>();

type RetryInput = NonNullable<Input['retry']>;
expectTypeOf<keyof RetryInput>().toEqualTypeOf<keyof TransportRetryOptions>();
expectTypeOf<RetryInput>().toExtend<TransportRetryOptions>();
expectTypeOf<TransportRetryOptions>().toExtend<RetryInput>();

type RateLimitInput = NonNullable<Input['rateLimit']>;
expectTypeOf<keyof RateLimitInput>().toEqualTypeOf<keyof TransportRateLimitOptions>();
expectTypeOf<RateLimitInput>().toExtend<TransportRateLimitOptions>();
expectTypeOf<TransportRateLimitOptions>().toExtend<RateLimitInput>();

type MetricsInput = NonNullable<Input['metrics']>;
expectTypeOf<keyof MetricsInput>().toEqualTypeOf<keyof TransportMetricsOptions>();
expectTypeOf<MetricsInput>().toExtend<TransportMetricsOptions>();
expectTypeOf<TransportMetricsOptions>().toExtend<MetricsInput>();

type MiddlewareInput = Element<NonNullable<Input['middleware']>>;
expectTypeOf<keyof MiddlewareInput>().toEqualTypeOf<keyof TransportMiddlewareOptions>();
expectTypeOf<MiddlewareInput>().toExtend<TransportMiddlewareOptions>();
expectTypeOf<TransportMiddlewareOptions>().toExtend<MiddlewareInput>();

// Under `exactOptionalPropertyTypes`, every optional option accepts an explicit `undefined` (a
// value passed through from an optional of the caller's own).
expectTypeOf<{
  dispatcher: undefined;
  tracer: undefined;
  retry: { maxRetries: undefined; random: undefined };
  rateLimit: { onRateLimit: undefined };
  middleware: undefined;
  secrets: undefined;
}>().toExtend<TransportOptions>();

// The key check has teeth: an interface with one key more (or less) than the schema is not equal.
expectTypeOf<keyof Input>().not.toEqualTypeOf<keyof (TransportOptions & { readonly extra?: number })>();
expectTypeOf<keyof Omit<Input, 'tracer'>>().not.toEqualTypeOf<keyof TransportOptions>();
