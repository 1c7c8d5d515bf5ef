import { DEFAULT_FAULT_KINDS, formatMatrixTable, type MatrixRun, runFaultMatrix } from '@ghcr/test-support';
import { describeWithBinaries } from '@ghcr/test-support/vitest';
import { beforeAll, expect, it } from 'vitest';
import { BIN, requireBuiltCli } from './testing/spawn.js';

// The fault matrix, quick size: the built `ghcr` through the seeded fault proxy of
// @ghcr/test-support to Debian's docker-registry, with skopeo checking every result by reading
// the registry (or the layout) itself. The full size is `pnpm faults` (scripts/faults.mjs). The
// proxy delays real sockets (slow headers, Retry-After); no assertion depends on wall time.

const KiB = 1024;
// A 429 that does not say how long to wait is waited out for 60 s (GitHub's convention): right,
// but a minute per fault is for `pnpm faults`, not the normal suite.
const kinds = DEFAULT_FAULT_KINDS.filter((kind) => kind !== 'status-429-bare');

const describeRuns = (runs: readonly MatrixRun[]): string =>
  runs
    .map(
      (run) =>
        `${run.tool} ${run.scenario}: faults ${run.faults}, ${run.succeeded ? 'ok' : 'failed'}${run.corrupt ? ' CORRUPT' : ''}${run.unclear ? ' UNCLEAR' : ''} ${run.note}`,
    )
    .join('\n');

describeWithBinaries(['docker-registry', 'skopeo'], 'the fault matrix (quick)', () => {
  beforeAll(() => {
    requireBuiltCli();
  });

  it('push, pull and copy survive ~25% faults; every blob corrupted fails cleanly; nothing is left corrupt', async () => {
    const { runs, rows } = await runFaultMatrix({
      cli: BIN,
      layerSizes: [64 * KiB, 300 * KiB, 900 * KiB],
      skopeo: false,
      scenarios: [
        { name: 'push heavy', operation: 'push', rate: 0.25, seed: 11, kinds },
        { name: 'pull heavy', operation: 'pull', rate: 0.25, seed: 12, kinds },
        { name: 'copy heavy', operation: 'copy', rate: 0.25, seed: 13, kinds },
        {
          name: 'pull, expired blob URLs',
          operation: 'pull',
          rate: 0.5,
          seed: 14,
          kinds: ['expired-redirect'],
        },
        {
          name: 'pull every blob corrupted',
          operation: 'pull',
          rate: 0,
          seed: 1,
          corruptEveryBlob: true,
          mustFail: true,
        },
        {
          name: 'push, registry restarted mid-upload',
          operation: 'push',
          rate: 0,
          seed: 1,
          restartMidUpload: true,
        },
      ],
    });
    const detail = `${formatMatrixTable(rows)}\n${describeRuns(runs)}`;
    const byName = new Map(runs.map((run) => [run.scenario, run]));
    expect(
      runs.every((run) => !run.corrupt),
      detail,
    ).toBe(true);
    expect(
      runs.every((run) => !run.unclear),
      detail,
    ).toBe(true);
    for (const name of ['push heavy', 'pull heavy', 'copy heavy', 'pull, expired blob URLs']) {
      expect(byName.get(name)?.succeeded, detail).toBe(true);
    }
    // The faults really happened: a matrix that injected nothing would prove nothing.
    expect(
      runs.reduce((sum, run) => sum + run.faults, 0),
      detail,
    ).toBeGreaterThanOrEqual(runs.length);

    const corrupted = byName.get('pull every blob corrupted');
    expect(corrupted?.succeeded, detail).toBe(false);
    expect(corrupted?.note, detail).toMatch(/^error: GHCR_DIGEST_MISMATCH: .*retry the transfer/);
    // Each bad copy was fetched again before giving up, and the CLI said so under --debug.
    expect(corrupted?.stderr, detail).toMatch(
      /debug: blob sha256:[0-9a-f]{64}: .*fetching it again \(attempt 3\)/,
    );

    const restarted = byName.get('push, registry restarted mid-upload');
    expect(restarted?.succeeded, detail).toBe(true);
    // docker-registry 2.8 signs its upload state with a secret of each process: the restarted one
    // does not know the session, so the upload started over, and --debug said so.
    expect(restarted?.stderr, detail).toMatch(
      /debug: upload of blob sha256:[0-9a-f]{64} .*(starting over from byte 0|resuming from byte \d+)/,
    );
  });
});
