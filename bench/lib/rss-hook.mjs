// Preloaded (`node --import`) into a timed Node process when GNU time is not installed: writes the
// process's peak RSS (getrusage maxRSS, bytes) to $GHCR_BENCH_RSS_FILE as it exits.
import { writeFileSync } from 'node:fs';
import { setting } from './env.mjs';

const file = setting('GHCR_BENCH_RSS_FILE');
if (file !== undefined) {
  process.on('exit', () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
  });
}
