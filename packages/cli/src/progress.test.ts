import type { ClientEventMap, ClientEvents, ProgressEvent } from '@ghcr/client';
import { describe, expect, it } from 'vitest';
import { CliRuntime, type CommandContext } from './context.js';
import { showProgress, wantsProgress } from './progress.js';
import { type Capture, instantClock, testIo } from './testing/io.js';

type Listener = (payload: ProgressEvent) => void;

/** A stand-in for a client's events: only `progress` is used by the display. */
function fakeEvents(): ClientEvents & { emit(event: ProgressEvent): void; listeners: Set<Listener> } {
  const listeners = new Set<Listener>();
  const events = {
    listeners,
    emit(event: ProgressEvent) {
      for (const listener of listeners) listener(event);
    },
    on<K extends keyof ClientEventMap>(_event: K, listener: (payload: ClientEventMap[K]) => void) {
      listeners.add(listener as unknown as Listener);
      return () => listeners.delete(listener as unknown as Listener);
    },
    off<K extends keyof ClientEventMap>(_event: K, listener: (payload: ClientEventMap[K]) => void) {
      listeners.delete(listener as unknown as Listener);
    },
    once<K extends keyof ClientEventMap>(_event: K, listener: (payload: ClientEventMap[K]) => void) {
      listeners.add(listener as unknown as Listener);
      return () => listeners.delete(listener as unknown as Listener);
    },
  };
  return events;
}

function contextFor(flags: string[], tty: boolean): { context: CommandContext; stderr: Capture } {
  const { io, stderr } = testIo({ isTTY: tty, clock: instantClock() });
  const runtime = new CliRuntime(io);
  const raw = Object.fromEntries(flags.map((flag) => [flag, true]));
  return { context: runtime.context(raw), stderr };
}

const event = (bytesDone: number): ProgressEvent => ({
  operation: 'blobs.upload',
  registry: '127.0.0.1:5000',
  repository: 'octo/app',
  digest: `sha256:${'ab'.repeat(32)}`,
  bytesDone,
  bytesTotal: 4 * 1024 * 1024,
});

describe('progress bars', () => {
  it('are drawn only on a terminal, without --quiet and --json', () => {
    expect(wantsProgress(contextFor([], true).context)).toBe(true);
    expect(wantsProgress(contextFor([], false).context)).toBe(false);
    expect(wantsProgress(contextFor(['quiet'], true).context)).toBe(false);
    expect(wantsProgress(contextFor(['json'], true).context)).toBe(false);
  });

  it('draw a bar per blob from progress events, and stop listening when stopped', () => {
    const { context, stderr } = contextFor([], true);
    const events = fakeEvents();
    const display = showProgress(context, events);
    expect(display.active).toBe(true);
    events.emit(event(0));
    events.emit(event(2 * 1024 * 1024));
    events.emit(event(4 * 1024 * 1024));
    display.stop();
    expect(events.listeners.size).toBe(0);
    const text = stderr.text;
    expect(text).toContain('push abababababab');
    expect(text).toContain('4.0 MiB/4.0 MiB');
    expect(text).toContain('100%');
  });

  it("draw a docker-archive layer's read under its diff_id, apart from the blob's own bar", () => {
    const { context, stderr } = contextFor([], true);
    const events = fakeEvents();
    const display = showProgress(context, events, { operations: ['images.push'] });
    const layer = (bytesDone: number): ProgressEvent => ({
      ...event(bytesDone),
      operation: 'images.push',
      digest: `sha256:${'cd'.repeat(32)}`,
      bytesTotal: 8 * 1024 * 1024,
      source: 'archive-layer',
    });
    events.emit(layer(0));
    events.emit(layer(8 * 1024 * 1024));
    // The blob made from it, under its own digest (here the same hex, to show the bars stay apart).
    events.emit({ ...event(1024 * 1024), operation: 'images.push', digest: `sha256:${'cd'.repeat(32)}` });
    display.stop();
    const text = stderr.text;
    expect(text).toContain('layer cdcdcdcdcdcd');
    expect(text).toContain('8.0 MiB/8.0 MiB');
    expect(text).toContain('push cdcdcdcdcdcd');
    expect(text).toContain('1.0 MiB/4.0 MiB');
  });

  it('draw nothing and listen to nothing when not wanted', () => {
    const { context, stderr } = contextFor([], false);
    const events = fakeEvents();
    const display = showProgress(context, events);
    expect(display.active).toBe(false);
    expect(events.listeners.size).toBe(0);
    display.stop();
    expect(stderr.text).toBe('');
  });
});
