import { appendFile, readFile } from 'node:fs/promises';

/**
 * One completed deletion, as a journal records it.
 * @public
 */
export interface RetentionJournalEntry {
  readonly id: number;
  readonly digest: string;
  /** `deleted` (204) or `already-gone` (404: deleted earlier, counts as done). */
  readonly outcome: 'deleted' | 'already-gone';
}

/**
 * Where `executePlan` records completed deletions so that a rerun after an interruption skips
 * them. Record before reporting; a rerun reads `completed()` once at its start.
 * @public
 */
export interface RetentionJournal {
  /** Ids completed by earlier runs. */
  completed(): Promise<Iterable<number>> | Iterable<number>;
  /** Records one completed deletion. */
  record(entry: RetentionJournalEntry): Promise<void> | void;
}

/**
 * A journal in a file of JSON lines (one {@link RetentionJournalEntry} per line), appended as
 * deletions complete. A missing file is an empty journal; a line cut short by a crash is ignored.
 * Writes are serialised. Keep one file per package (ids are unique per GitHub instance anyway).
 * @public
 */
export function createFileJournal(path: string): RetentionJournal {
  let writing: Promise<void> = Promise.resolve();
  return {
    async completed() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const ids: number[] = [];
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        try {
          const entry = JSON.parse(line) as Partial<RetentionJournalEntry>;
          if (typeof entry.id === 'number' && Number.isSafeInteger(entry.id)) ids.push(entry.id);
        } catch {
          // A line cut short by an interruption: that deletion is simply tried again (idempotent).
        }
      }
      return ids;
    },
    record(entry) {
      const line = `${JSON.stringify({ id: entry.id, digest: entry.digest, outcome: entry.outcome })}\n`;
      writing = writing.then(() => appendFile(path, line, 'utf8'));
      return writing;
    },
  };
}

/**
 * A journal in memory (`entries` shows what was recorded); `initial` ids count as completed.
 * @public
 */
export function createMemoryJournal(
  initial: Iterable<number> = [],
): RetentionJournal & { readonly entries: readonly RetentionJournalEntry[] } {
  const entries: RetentionJournalEntry[] = [];
  const done = new Set(initial);
  return {
    entries,
    completed: () => [...done],
    record(entry) {
      entries.push(entry);
      done.add(entry.id);
    },
  };
}
