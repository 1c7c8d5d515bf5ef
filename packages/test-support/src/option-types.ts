/**
 * `T` with its array properties mutable: a documented options interface takes readonly arrays (a
 * caller may pass a frozen list), while a zod schema's input type says mutable ones. Type tests
 * compare `MutableArrays<Options>` with the schema's input, so the elements still have to agree.
 * @public
 */
export type MutableArrays<T> = {
  [K in keyof T]: T[K] extends readonly (infer E)[] | undefined ? E[] | Exclude<T[K], readonly E[]> : T[K];
};
