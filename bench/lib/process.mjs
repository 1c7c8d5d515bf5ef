// Runs a command as a child process and times it from spawn to exit (what a user waits for),
// with its peak resident set from GNU time (`/usr/bin/time -v`) when that is installed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setting, toolEnvironment } from './env.mjs';

export const GNU_TIME =
  existsSync('/usr/bin/time') && setting('GHCR_BENCH_NO_GNU_TIME') !== '1' ? '/usr/bin/time' : undefined;
const RSS_HOOK = new URL('./rss-hook.mjs', import.meta.url).href;
let counter = 0;

/**
 * Runs `command args…` in {@link toolEnvironment} (this process's environment less the variables
 * the bench takes out of every timed process's, plus `env`). Resolves `{ ms, code, stdout, stderr, maxRssBytes?, json? }` (json: the
 * last stdout line parsed, when it is JSON); rejects when the exit code is not 0 unless
 * `allowFailure`.
 */
export async function run(command, args, { env, cwd, allowFailure = false, measureRss = true } = {}) {
  const timeFile = join(tmpdir(), `ghcr-bench-time-${process.pid}-${counter++}.txt`);
  const useTime = measureRss && GNU_TIME !== undefined;
  // Without GNU time, a Node child reports its own peak through a preloaded exit hook.
  const useHook = measureRss && !useTime && command === process.execPath;
  const [file, argv] = useTime
    ? [GNU_TIME, ['-v', '-o', timeFile, command, ...args]]
    : useHook
      ? [command, ['--import', RSS_HOOK, ...args]]
      : [command, args];
  const start = process.hrtime.bigint();
  const result = await new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      cwd,
      env: toolEnvironment({ ...env, ...(useHook ? { GHCR_BENCH_RSS_FILE: timeFile } : {}) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      resolve({ ms, code: code ?? signal, stdout, stderr });
    });
  });
  if (useHook) {
    const bytes = Number(await readFile(timeFile, 'utf8').catch(() => ''));
    await rm(timeFile, { force: true });
    if (bytes > 0) result.maxRssBytes = bytes;
  }
  if (useTime) {
    const report = await readFile(timeFile, 'utf8').catch(() => '');
    await rm(timeFile, { force: true });
    const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
    if (match !== null) result.maxRssBytes = Number(match[1]) * 1024;
    const user = /User time \(seconds\): ([\d.]+)/.exec(report);
    const system = /System time \(seconds\): ([\d.]+)/.exec(report);
    if (user !== null && system !== null) result.cpuMs = (Number(user[1]) + Number(system[1])) * 1000;
  }
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  if (last.startsWith('{')) {
    try {
      result.json = JSON.parse(last);
    } catch {
      // not JSON after all
    }
  }
  if (result.maxRssBytes === undefined && typeof result.json?.maxRssBytes === 'number') {
    result.maxRssBytes = result.json.maxRssBytes;
  }
  if (result.code !== 0 && !allowFailure) {
    const output = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code}:\n${output}`);
  }
  return result;
}

/** Whether `command` is on the PATH. */
export async function hasCommand(command) {
  const result = await run('sh', ['-c', `command -v ${command}`], { allowFailure: true, measureRss: false });
  return result.code === 0;
}

/** `sync`: flush dirty pages so one run's writeback does not land in the next run's time. */
export async function sync() {
  await run('sync', [], { measureRss: false, allowFailure: true });
}
