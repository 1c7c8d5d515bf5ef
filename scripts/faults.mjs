#!/usr/bin/env node
// The full fault matrix (`pnpm faults`): push, pull and copy with the built CLI and with skopeo
// (--retry-times 3) through the seeded fault proxy of @ghcr/test-support, light (~5%) and heavy
// (~25%) fault rates over several seeds, plus runs where every blob GET is corrupted (they must
// fail cleanly). After each run skopeo checks the result reading the registry directly. Prints
// the table; exits 1 when our row has a corrupt result or an unclear error, or a run that had to
// succeed failed.
//   node scripts/faults.mjs [--seeds N] [--no-skopeo]
import { fileURLToPath } from 'node:url';
import { formatMatrixTable, runFaultMatrix } from '@ghcr/test-support';

const argv = process.argv.slice(2);
const seedsAt = argv.indexOf('--seeds');
const seeds = seedsAt >= 0 ? Number(argv[seedsAt + 1]) : 4;
const cli = fileURLToPath(new URL('../packages/cli/dist/bin.cjs', import.meta.url));
const MiB = 1024 * 1024;

const scenarios = [];
for (let seed = 1; seed <= seeds; seed++) {
  for (const operation of ['push', 'pull', 'copy']) {
    scenarios.push({ name: `${operation} light`, operation, rate: 0.05, seed: seed * 101 });
    scenarios.push({ name: `${operation} heavy`, operation, rate: 0.25, seed: seed * 103 });
  }
}
for (const operation of ['pull', 'copy']) {
  scenarios.push({
    name: `${operation} every blob corrupted`,
    operation,
    rate: 0,
    seed: 1,
    corruptEveryBlob: true,
    mustFail: true,
  });
}
scenarios.push({
  name: 'push, registry restarted mid-upload',
  operation: 'push',
  rate: 0,
  seed: 1,
  restartMidUpload: true,
});
scenarios.push({
  name: 'pull, expired blob URLs',
  operation: 'pull',
  rate: 0.5,
  seed: 5,
  kinds: ['expired-redirect'],
});
scenarios.push({
  name: 'push, token expiring mid-push',
  operation: 'push',
  rate: 0.3,
  seed: 6,
  kinds: ['stray-401'],
});
scenarios.push({
  name: 'pull, 200 with an HTML page',
  operation: 'pull',
  rate: 1,
  seed: 7,
  kinds: ['html-200'],
  mustFail: true,
});

const started = Date.now();
const { runs, rows } = await runFaultMatrix({
  cli,
  scenarios,
  layerSizes: [300 * 1024, 2 * MiB, 9 * MiB, 24 * MiB],
  skopeo: !argv.includes('--no-skopeo'),
  onRun: (run) => {
    const outcome = run.succeeded ? 'ok' : 'failed';
    const flags = `${run.corrupt ? ' CORRUPT' : ''}${run.unclear ? ' UNCLEAR' : ''}`;
    process.stderr.write(
      `${run.tool.padEnd(6)} ${run.scenario.padEnd(38)} faults ${String(run.faults).padStart(3)} ${outcome}${flags}${run.note === '' ? '' : `: ${run.note.slice(0, 300)}`}\n`,
    );
  },
});
process.stdout.write(
  `\n${formatMatrixTable(rows)}\n\n${runs.length} runs in ${Math.round((Date.now() - started) / 1000)} s\n`,
);
const ours = runs.filter((run) => run.tool === 'ghcr');
const mustSucceed = scenarios
  .filter((scenario) => scenario.mustFail !== true)
  .map((scenario) => scenario.name);
const bad = ours.filter(
  (run) => run.corrupt || run.unclear || (!run.succeeded && mustSucceed.includes(run.scenario)),
);
process.exitCode = bad.length === 0 ? 0 : 1;
