// Process start-up: what every timed command pays before its first request. Alternating, median.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removedToolEnv } from './env.mjs';
import { buildFloor, FLOOR_TEXT } from './floor.mjs';
import { run } from './process.mjs';
import { median } from './stats.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The start-up row of the limit's own processes: bash and three curls one after another, as the
 * PUT stage's script runs them (each fetching `file:///dev/null`, no network). The report takes
 * it off a limit timed from spawn to exit before it adds the limit to Node's start, so that the
 * starts are not counted twice.
 */
export const LIMIT_START_NAME =
  "the limit's own start: bash running three curls one after another, each reading `file:///dev/null`";

export async function runStartup({ runs, implementation, work }) {
  const commands = [
    { name: '`node -e 0`', command: [process.execPath, ['-e', '0']] },
    ...Object.keys(removedToolEnv).map((name) => ({
      name: `\`node -e 0\` with this machine's \`${name}\` (taken out of every other row's and transfer's environment)`,
      command: [process.execPath, ['-e', '0']],
      env: { [name]: removedToolEnv[name] },
    })),
    {
      name: `floor: ${FLOOR_TEXT}, bundled as the CLI is (no ghcr code; \`bench/lib/floor.mjs\`)`,
      command: await buildFloor(join(work, 'floor')),
    },
    {
      name: 'ceiling script, a diagnostic (undici imported)',
      command: [process.execPath, [here('../ceiling.mjs'), 'noop']],
    },
    {
      name: 'ours: `bench/ghcr-lib.mjs` (@ghcr/client imported)',
      command: [process.execPath, [here('../ghcr-lib.mjs'), 'noop']],
    },
    {
      name: 'ours: `ghcr --version` (the CLI)',
      command: [process.execPath, [here('../../packages/cli/dist/bin.cjs'), '--version']],
    },
    { name: '`skopeo --version`', command: ['skopeo', ['--version']] },
    {
      name: LIMIT_START_NAME,
      command: [
        'bash',
        ['-c', 'for i in 1 2 3; do curl --silent --fail -o /dev/null file:///dev/null; done'],
      ],
    },
  ];
  const used = Object.values(implementation).includes('cli');
  const samples = commands.map(() => ({ ms: [], cpuMs: [], rss: [] }));
  for (let index = 0; index < runs + 1; index++) {
    const order = index % 2 === 0 ? commands.map((_, i) => i) : commands.map((_, i) => i).reverse();
    for (const i of order) {
      const [command, args] = commands[i].command;
      const result = await run(command, args, { allowFailure: true, env: commands[i].env });
      if (result.code !== 0) continue;
      if (index === 0) continue; // warm-up
      samples[i].ms.push(result.ms);
      samples[i].cpuMs.push(result.cpuMs);
      samples[i].rss.push(result.maxRssBytes);
    }
  }
  return {
    cliUsed: used,
    rows: commands
      .map((entry, i) => ({
        name: entry.name,
        ms: median(samples[i].ms),
        cpuMs: median(samples[i].cpuMs.filter(Number.isFinite)),
        rssBytes: median(samples[i].rss.filter(Number.isFinite)),
        runs: samples[i].ms.length,
      }))
      .filter((row) => row.runs > 0),
  };
}
