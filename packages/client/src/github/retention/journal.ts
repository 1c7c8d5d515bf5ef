import { appendFile, readFile } from 'node:fs/promises';

/**
 * One completed deletion, as a journal records it.
 * @public
 */
export interface RetentionJournalCompletion {
  readonly id: number;
  readonly digest: string;
  /** `deleted` (204) or `already-gone` (404: deleted earlier, counts as done). */
  readonly outcome: 'deleted' | 'already-gone';
}

/**
 * Why a version the plan deletes was left alone on purpose (and stays so when the plan is rerun):
 * it became reachable from a tag or a version pushed after the plan (`changed-since-plan`), or it
 * was created or updated within `minAge` (`min-age`).
 * @public
 */
export type RetentionSkipCause = 'changed-since-plan' | 'min-age';

/**
 * One version skipped on purpose, as a journal records it: a rerun of the same plan skips it again
 * with this reason instead of deleting it blindly (plan again to reconsider it).
 * @public
 */
export interface RetentionJournalSkip {
  readonly id: number;
  readonly digest: string;
  readonly outcome: 'skipped';
  readonly cause: RetentionSkipCause;
  /** The reason, e.g. `referenced by tag hotfix, pushed after the plan`. */
  readonly why: string;
}

/**
 * What a journal records: a completed deletion or a version skipped on purpose.
 * @public
 */
export type RetentionJournalEntry = RetentionJournalCompletion | RetentionJournalSkip;

/**
 * Where `executePlan` records completed deletions and versions skipped on purpose, so that a
 * rerun after an interruption skips both. Record before reporting; a rerun reads `completed()`
 * and `skipped()` once at its start.
 * @public
 */
export interface RetentionJournal {
  /** Ids completed by earlier runs (entries with outcome `deleted` or `already-gone`). */
  completed(): Promise<Iterable<number>> | Iterable<number>;
  /**
   * Versions earlier runs skipped on purpose (entries with outcome `skipped`). If omitted, a rerun
   * looks again (with `revalidate`) instead of reading them.
   */
  skipped?(): Promise<Iterable<RetentionJournalSkip>> | Iterable<RetentionJournalSkip>;
  /** Records one completed deletion or one version skipped on purpose. */
  record(entry: RetentionJournalEntry): Promise<void> | void;
}

const SKIP_CAUSES: ReadonlySet<string> = new Set<RetentionSkipCause>(['changed-since-plan', 'min-age']);

/** The entries of a JSON-lines journal; a line cut short by a crash is ignored. */
function parseLines(text: string): RetentionJournalEntry[] {
  const entries: RetentionJournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let entry: Partial<Record<keyof RetentionJournalSkip, unknown>>;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // A line cut short by an interruption: that deletion is simply tried again (idempotent).
      continue;
    }
    if (typeof entry.id !== 'number' || !Number.isSafeInteger(entry.id)) continue;
    const digest = typeof entry.digest === 'string' ? entry.digest : '';
    if (entry.outcome === 'skipped') {
      if (typeof entry.cause === 'string' && SKIP_CAUSES.has(entry.cause)) {
        entries.push({
          id: entry.id,
          digest,
          outcome: 'skipped',
          cause: entry.cause as RetentionSkipCause,
          why: typeof entry.why === 'string' ? entry.why : 'skipped by an earlier run',
        });
      }
    } else {
      entries.push({
        id: entry.id,
        digest,
        outcome: entry.outcome === 'already-gone' ? 'already-gone' : 'deleted',
      });
    }
  }
  return entries;
}

/** The JSON line an entry is written as. */
function lineOf(entry: RetentionJournalEntry): string {
  const fields =
    entry.outcome === 'skipped'
      ? { id: entry.id, digest: entry.digest, outcome: entry.outcome, cause: entry.cause, why: entry.why }
      : { id: entry.id, digest: entry.digest, outcome: entry.outcome };
  return `${JSON.stringify(fields)}\n`;
}

/**
 * A journal in a file of JSON lines (one {@link RetentionJournalEntry} per line), appended as
 * deletions complete. A missing file is an empty journal; a line cut short by a crash is ignored.
 * Writes are serialised. Keep one file per package (ids are unique per GitHub instance anyway).
 * @public
 */
export function createFileJournal(path: string): RetentionJournal {
  let writing: Promise<void> = Promise.resolve();
  const read = async (): Promise<RetentionJournalEntry[]> => {
    try {
      return parseLines(await readFile(path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  };
  return {
    async completed() {
      return (await read()).filter((entry) => entry.outcome !== 'skipped').map((entry) => entry.id);
    },
    async skipped() {
      return (await read()).filter((entry): entry is RetentionJournalSkip => entry.outcome === 'skipped');
    },
    record(entry) {
      const line = lineOf(entry);
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
    skipped: () => entries.filter((entry): entry is RetentionJournalSkip => entry.outcome === 'skipped'),
    record(entry) {
      entries.push(entry);
      if (entry.outcome !== 'skipped') done.add(entry.id);
    },
  };
}
