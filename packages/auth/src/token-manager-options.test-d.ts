// Type test, checked by `tsc --noEmit` (the package's typecheck): the documented interface and the
// zod schema accept exactly the same options. A key only in one fails `toEqualTypeOf` on the key
// sets; a property typed differently fails `toExtend` in one direction or the other.
import type { MutableArrays } from '@ghcr/test-support';
import { expectTypeOf } from 'vitest';
import type * as z from 'zod';
import type { TokenManagerOptions, tokenManagerOptionsSchema } from './token-manager-options.js';

type Input = z.input<typeof tokenManagerOptionsSchema>;

expectTypeOf<keyof Input>().toEqualTypeOf<keyof TokenManagerOptions>();
expectTypeOf<Input>().toExtend<TokenManagerOptions>();
expectTypeOf<MutableArrays<TokenManagerOptions>>().toExtend<Input>();
// Every optional option accepts an explicit `undefined` under `exactOptionalPropertyTypes`.
expectTypeOf<{
  [K in keyof TokenManagerOptions]-?: undefined;
}>().toExtend<TokenManagerOptions>();
// The key check has teeth: one key more is not equal.
expectTypeOf<keyof Input>().not.toEqualTypeOf<
  keyof (TokenManagerOptions & { readonly userAgnet?: string })
>();
