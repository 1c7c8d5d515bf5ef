import type * as z from 'zod';

/** Where Node's `util.inspect` looks for an object's own way of being shown. */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * A zod schema that is built the first time it is used, not when its module loads.
 *
 * zod 4 does real work for every schema it builds (each `z.string()`, `.optional()` or check is an
 * object with its methods bound to it), and a module's schemas are built when the module loads,
 * whether or not the program ever parses anything with them. The toolkit declares a few hundred of
 * them (the OCI documents, the GitHub API objects, options, policies, reports), and a short command
 * such as `ghcr tags` needs a handful: wrapping each module-level schema in `lazySchema` takes the
 * rest off every program's start.
 *
 * The value returned stands for the schema in every way zod and its users reach it (`parse`,
 * `safeParse`, `.shape`, `.extend()`, `.optional()`, `instanceof`, a place in another schema,
 * `z.toJSONSchema`, `z.infer`): each property read, check or definition is passed to the schema,
 * which is built once, on the first of them. `build` must not throw (a schema's definition is
 * static); if it does, the error reaches the first user and the next use calls `build` again.
 *
 * The value is not the built schema itself: comparing the two with `===`, or registering one in a
 * zod registry and looking up the other, finds them different. Use the value everywhere.
 * `Object.freeze` and `Object.preventExtensions` on it throw a `TypeError`.
 *
 * @example
 * ```ts
 * import * as z from 'zod';
 * import { lazySchema } from '@ghcr/oci-types';
 *
 * // Nothing is built when the module loads…
 * export const teamSchema = lazySchema(() => z.object({ name: z.string().min(1) }));
 * // …and here, on the first parse.
 * teamSchema.parse({ name: 'platform' });
 * ```
 * @param build - Returns the schema; called once, on first use.
 * @returns A stand-in with the schema's own type.
 * @public
 */
export function lazySchema<Schema extends z.ZodType>(build: () => Schema): Schema {
  let built: Schema | undefined;
  const schema = (): Schema => {
    built ??= build();
    return built;
  };
  // The proxy's target holds nothing of the schema's (every trap below answers from the schema),
  // except what the proxy rules require it to hold: a property the schema reports or defines as
  // non-configurable is copied onto the target, which is why the target is never made
  // non-extensible. Node's `util.inspect` shows a proxy's target, not what its traps answer: the
  // target's own inspect method shows the schema instead.
  const target = Object.create(null) as Schema;
  Object.defineProperty(target, INSPECT, {
    configurable: true,
    value: (_depth: number, options: object, inspect: (value: unknown, options: object) => string) =>
      inspect(schema(), options),
  });
  const keepNonConfigurable = (key: PropertyKey, descriptor: PropertyDescriptor | undefined): void => {
    if (descriptor !== undefined && descriptor.configurable === false && !Object.hasOwn(target, key)) {
      Object.defineProperty(target, key, descriptor);
    }
  };
  return new Proxy(target, {
    get: (_target, key) => {
      const built = schema();
      return Reflect.get(built, key, built);
    },
    set: (_target, key, value) => {
      const built = schema();
      return Reflect.set(built, key, value, built);
    },
    has: (_target, key) => Reflect.has(schema(), key),
    deleteProperty: (_target, key) => Reflect.deleteProperty(schema(), key),
    defineProperty: (_target, key, descriptor) => {
      if (!Reflect.defineProperty(schema(), key, descriptor)) return false;
      keepNonConfigurable(key, Reflect.getOwnPropertyDescriptor(schema(), key));
      return true;
    },
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(schema(), key);
      keepNonConfigurable(key, descriptor);
      return descriptor;
    },
    ownKeys: () => Reflect.ownKeys(schema()),
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
    setPrototypeOf: (_target, prototype) => Reflect.setPrototypeOf(schema(), prototype),
    preventExtensions: () => false,
  });
}

/**
 * The parse context for a value a schema parses once in a process, such as a function's options:
 * `schema.safeParse(options, PARSE_ONCE)`.
 *
 * On its first parse, zod compiles each object schema into a function of its own (with
 * `new Function`) that later parses take as a fast path. That pays off over many values, and for
 * one value costs more than it saves: the toolkit parses its options (the client's, the
 * transport's, the token manager's, an operation's) once each, and `ghcr tags` spends the time
 * it took to compile them at every start (0.98× its wall time without, on Node 20;
 * docs/benchmarks.md, "Issue 18, sixteenth round"). The result is the same either way.
 *
 * @example
 * ```ts
 * import * as z from 'zod';
 * import { PARSE_ONCE } from '@ghcr/oci-types';
 *
 * const optionsSchema = z.object({ retries: z.number().int().min(0).default(3) }).strict();
 * const options = optionsSchema.parse({}, PARSE_ONCE); // { retries: 3 }
 * ```
 * @public
 */
export const PARSE_ONCE: { readonly jitless: true } = Object.freeze({ jitless: true });
