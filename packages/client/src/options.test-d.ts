// Type tests, checked by `tsc --noEmit` (the package's typecheck): the documented interfaces and
// the zod schemas accept exactly the same options. A key only in the schema, or only in an
// interface, fails `toEqualTypeOf` on the key sets; a property typed differently fails `toExtend`
// in one direction or the other.
import { expectTypeOf } from 'vitest';
import type * as z from 'zod';
import type { GhcrClientOptions, ghcrClientOptionsSchema, RegistrySettingsOverride } from './options.js';

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
