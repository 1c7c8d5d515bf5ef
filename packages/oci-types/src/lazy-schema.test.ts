import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { lazySchema, PARSE_ONCE } from './lazy-schema.js';

const buildTeam = () =>
  z.looseObject({ name: z.string().min(1), size: z.number().int().nonnegative().optional() });

describe('lazySchema', () => {
  it('builds the schema on first use, once', () => {
    const build = vi.fn(buildTeam);
    const team = lazySchema(build);
    expect(build).not.toHaveBeenCalled();
    expect(team.parse({ name: 'platform', size: 3 })).toEqual({ name: 'platform', size: 3 });
    expect(team.safeParse({ name: '' }).success).toBe(false);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('refuses and accepts exactly what the schema built at once does, with the same issues', () => {
    const team = lazySchema(buildTeam);
    const eager = buildTeam();
    for (const input of [{ name: 'a' }, { name: '' }, { name: 'a', size: -1 }, { size: 1.5 }, 'x', null]) {
      const lazy = team.safeParse(input);
      const direct = eager.safeParse(input);
      expect(lazy.success).toBe(direct.success);
      expect(lazy.error?.issues).toEqual(direct.error?.issues);
    }
  });

  it('stands for the schema inside other schemas and through its methods', () => {
    const team = lazySchema(buildTeam);
    const org = z.object({ teams: z.array(team), lead: team.optional() });
    expect(org.parse({ teams: [{ name: 'a' }], lead: { name: 'b' } })).toEqual({
      teams: [{ name: 'a' }],
      lead: { name: 'b' },
    });
    const failed = org.safeParse({ teams: [{ name: '' }] });
    expect(failed.error?.issues[0]?.path).toEqual(['teams', 0, 'name']);
    const extended = team.extend({ slug: z.string() });
    expect(extended.safeParse({ name: 'a' }).success).toBe(false);
    expect(Object.keys(team.shape)).toEqual(['name', 'size']);
    expect(team).toBeInstanceOf(z.ZodObject);
    expect(team instanceof z.ZodType).toBe(true);
    expect(z.toJSONSchema(team)).toEqual(z.toJSONSchema(buildTeam()));
  });

  it('answers reflection as the schema does', () => {
    const team = lazySchema(buildTeam);
    const eager = buildTeam();
    expect(Reflect.ownKeys(team)).toEqual(Reflect.ownKeys(eager));
    expect(Object.getPrototypeOf(team)).toBe(Object.getPrototypeOf(eager));
    expect('_zod' in team).toBe(true);
    // `_zod` is a non-configurable property of every zod schema: describing it must not break the
    // proxy's rules (a TypeError if the target did not hold it too).
    expect(Object.getOwnPropertyDescriptor(team, '_zod')?.configurable).toBe(false);
    expect(team._zod.def.type).toBe('object');
    expect(inspect(team)).toBe(inspect(eager));
  });

  it('passes writes to the schema and refuses to be frozen', () => {
    const team = lazySchema(buildTeam);
    Object.defineProperty(team, 'label', { value: 'teams', configurable: false, enumerable: true });
    expect(Object.getOwnPropertyDescriptor(team, 'label')?.value).toBe('teams');
    expect(() => Object.freeze(team)).toThrow(TypeError);
    expect(team.parse({ name: 'a' })).toEqual({ name: 'a' });
  });

  it('calls build again on the next use when it threw', () => {
    let calls = 0;
    const flaky = lazySchema(() => {
      calls += 1;
      if (calls === 1) throw new Error('first build fails');
      return z.string();
    });
    expect(() => flaky.parse('a')).toThrow('first build fails');
    expect(flaky.parse('a')).toBe('a');
    expect(calls).toBe(2);
  });
});

describe('PARSE_ONCE', () => {
  /** How many functions zod compiles (`new Function`) while `parse` runs. */
  function compiledDuring(parse: () => unknown): number {
    const NativeFunction = Function;
    let compiled = 0;
    vi.stubGlobal(
      'Function',
      new Proxy(NativeFunction, {
        construct(target, args) {
          compiled += 1;
          return Reflect.construct(target, args);
        },
      }),
    );
    try {
      parse();
    } finally {
      vi.unstubAllGlobals();
    }
    return compiled;
  }

  const buildOptions = () =>
    z
      .object({
        retries: z.number().int().min(0).default(3),
        proxy: z.object({ host: z.string(), port: z.number().int().default(3128) }).optional(),
      })
      .strict();

  it('parses an object without compiling a fast path for it, to the same result', () => {
    const input = { proxy: { host: 'proxy.internal' } };
    const once = buildOptions();
    const compiledOnce = compiledDuring(() => once.parse(input, PARSE_ONCE));
    // The same schema parsed as zod does by default compiles one function per object schema.
    const usual = buildOptions();
    const compiledUsual = compiledDuring(() => usual.parse(input));
    expect(compiledOnce).toBe(0);
    expect(compiledUsual).toBeGreaterThanOrEqual(2);
    expect(once.parse(input, PARSE_ONCE)).toEqual(usual.parse(input));
    expect(once.parse(input, PARSE_ONCE)).toEqual({
      retries: 3,
      proxy: { host: 'proxy.internal', port: 3128 },
    });
    const refused = once.safeParse({ retries: -1, extra: true }, PARSE_ONCE);
    expect(refused.error?.issues).toEqual(usual.safeParse({ retries: -1, extra: true }).error?.issues);
    expect(Object.isFrozen(PARSE_ONCE)).toBe(true);
  });
});
