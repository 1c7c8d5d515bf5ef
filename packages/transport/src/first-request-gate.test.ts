import { describe, expect, it } from 'vitest';
import { createFirstRequestGate, outcomeOfStatus } from './first-request-gate.js';

/** Lets every pending promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('first request gate', () => {
  it('leads the first request to a registry and holds the next ones until it settles', async () => {
    const gate = createFirstRequestGate();
    const lead = await gate.enter('registry.test', undefined);
    expect(lead).toBeDefined();
    let released = 0;
    const waiters = Array.from({ length: 3 }, () =>
      gate.enter('registry.test', undefined).then((entry) => {
        released++;
        return entry;
      }),
    );
    await flush();
    expect(released).toBe(0);
    lead?.settle('challenged');
    expect(await Promise.all(waiters)).toEqual([undefined, undefined, undefined]);
    expect(gate.challenges('registry.test')).toBe(1);
    // Known now: never held again.
    expect(await gate.enter('registry.test', undefined)).toBeUndefined();
  });

  it('keeps registries apart', async () => {
    const gate = createFirstRequestGate();
    const a = await gate.enter('a.test', undefined);
    const b = await gate.enter('b.test', undefined);
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    a?.settle('answered');
    expect(gate.challenges('b.test')).toBe(0);
    expect(await gate.enter('a.test', undefined)).toBeUndefined();
  });

  it('after a failed first request releases the waiters and lets the next new request lead', async () => {
    const gate = createFirstRequestGate();
    const lead = await gate.enter('registry.test', undefined);
    const waiter = gate.enter('registry.test', undefined);
    lead?.settle('failed');
    expect(await waiter).toBeUndefined();
    expect(gate.challenges('registry.test')).toBe(0);
    const next = await gate.enter('registry.test', undefined);
    expect(next).toBeDefined();
    // Settling twice is harmless: the second call is ignored.
    lead?.settle('challenged');
    expect(gate.challenges('registry.test')).toBe(0);
    next?.settle('answered');
  });

  it('rejects a waiter with its signal reason when it aborts, leaving the others waiting', async () => {
    const gate = createFirstRequestGate();
    const lead = await gate.enter('registry.test', undefined);
    const controller = new AbortController();
    const aborted = gate.enter('registry.test', controller.signal);
    let otherReleased = false;
    const other = gate.enter('registry.test', undefined).then(() => {
      otherReleased = true;
    });
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    await flush();
    expect(otherReleased).toBe(false);
    lead?.settle('answered');
    await other;
    const already = new AbortController();
    already.abort(new Error('too late'));
    await expect(gate.enter('elsewhere.test', already.signal)).rejects.toThrow('too late');
  });

  it.each([
    [200, 'answered'],
    [307, 'answered'],
    [404, 'answered'],
    [403, 'answered'],
    [401, 'challenged'],
    [408, 'failed'],
    [429, 'failed'],
    [503, 'failed'],
  ] as const)('reads status %i as %s', (status, outcome) => {
    expect(outcomeOfStatus(status)).toBe(outcome);
  });
});
