/**
 * The action: the vulnerability gate (when `gate-image` is given), then retention for each
 * package: list its versions (Packages API), read its registry graph, then either validate it or
 * plan and execute (a dry run by default). Everything is reported as step outputs, a job summary
 * and annotations; secrets are masked and redacted.
 */
import { readFile } from 'node:fs/promises';
import { chainCredentials, defaultCredentialChain, staticCredentials } from '@ghcr/auth';
import {
  type CleanupPackageOutcome,
  type CleanupPackagesResult,
  cleanupPackages,
  createFileCleanupState,
  createGhcrClient,
  createRequestBudget,
  formatSyncItem,
  type GateResult,
  type GhcrClient,
  type GhcrClientOptions,
  packageNameMatcher,
  type RequestBudget,
  type RetentionDecision,
  type RetentionPlan,
  type SignaturePolicy,
  type SyncFileResult,
  type SyncReport,
  syncFromFile,
} from '@ghcr/client';
import { type Clock, definedProps, GhcrError } from '@ghcr/oci-types';
import {
  type ActionEnvironment,
  type ActionInputs,
  formatProblem,
  type GatePolicyInputs,
  parseInputs,
  tokenOf,
} from './inputs.js';
import {
  type BrokenEntry,
  brokenEntries,
  type PackageResult,
  renderSummary,
  type VersionEntry,
  versionEntries,
} from './summary.js';
import { type ActionIo, createActionIo } from './workflow-commands.js';

/**
 * Options of {@link runAction} (for tests and embedding; the bundle passes none).
 * @public
 */
export interface RunActionOptions {
  /** The undici dispatcher every request goes through (the simulation's). If omitted, the client's own Agent. */
  readonly dispatcher?: GhcrClientOptions['dispatcher'];
  /** Time for ages (`older-than`) and the transport's waits. If omitted, the system clock. */
  readonly clock?: Clock;
  /** Receives stdout text (logs and workflow commands). If omitted, `process.stdout`. */
  readonly write?: (text: string) => void;
}

/**
 * What a run did. The same facts as the outputs, the summary and the exit code.
 * @public
 */
export interface ActionResult {
  /** 0 when everything succeeded; 1 on bad inputs, a blocked gate, a failed deletion, a broken image (validate) or an unreadable graph. */
  readonly exitCode: 0 | 1;
  /** The step outputs as written. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly packages: readonly PackageResult[];
  /** Cleanup mode: how far the cycle got. */
  readonly run?: RunProgress;
  readonly gate?: GateResult;
  /** Input problems, each naming its input. */
  readonly problems: readonly string[];
}

/** A job matrix takes at most 256 jobs. */
const MAX_MATRIX_JOBS = 256;

/**
 * How far a cleanup got: whether every selected package is finished, and which are left.
 * @public
 */
export interface RunProgress {
  /** True when every selected package is finished (with `state-file`, across runs). */
  readonly complete: boolean;
  /** Packages left for the next run (the API budget ran out). */
  readonly pending: readonly string[];
}

/** GitHub caps one output at 1 MB; stay below it. */
const MAX_OUTPUT_CHARS = 900_000;

/** Serialises entries for an output, dropping the reason texts, then entries, to stay under the cap. */
function fitJson<T extends { readonly reason?: string }>(
  entries: readonly T[],
): { json: string; dropped: number } {
  let json = JSON.stringify(entries);
  if (json.length <= MAX_OUTPUT_CHARS) return { json, dropped: 0 };
  const bare = entries.map(({ reason: _reason, ...rest }) => rest);
  json = JSON.stringify(bare);
  let count = bare.length;
  while (json.length > MAX_OUTPUT_CHARS && count > 0) {
    count = Math.floor((count * MAX_OUTPUT_CHARS) / json.length) - 1;
    json = JSON.stringify(bare.slice(0, Math.max(0, count)));
  }
  return { json, dropped: entries.length - Math.max(0, count) };
}

function messageOf(error: unknown): string {
  if (GhcrError.isInstance(error)) return `${error.message} [${error.code}]`;
  return error instanceof Error ? error.message : String(error);
}

async function expandPackages(
  client: GhcrClient,
  owner: string,
  names: readonly string[],
  io: ActionIo,
): Promise<string[]> {
  const out: string[] = [];
  let listed: string[] | undefined;
  for (const name of names) {
    if (!/[*?]/.test(name)) {
      out.push(name);
      continue;
    }
    listed ??= (await client.versions.listPackages(owner)).map((pkg) => pkg.name);
    const matches = listed.filter(packageNameMatcher(name)).sort();
    if (matches.length === 0) {
      io.warning(
        `packages: "${name}" matches none of the ${listed.length} container packages of ${owner} that the token can see`,
        { title: 'No package matched' },
      );
    }
    out.push(...matches);
  }
  return [...new Set(out)];
}

function describe(decision: Pick<RetentionDecision, 'id' | 'digest' | 'tags' | 'kind'>): string {
  const tags = decision.tags.length === 0 ? 'untagged' : decision.tags.join(', ');
  return `${decision.id} ${decision.digest} (${decision.kind}; ${tags})`;
}

async function validatePackage(
  client: GhcrClient,
  pkg: string,
  repository: string,
  io: ActionIo,
): Promise<PackageResult> {
  const versions = await client.versions.list(repository);
  io.log(`${versions.length} active versions; reading the registry graph (manifests and blobs)`);
  const graph = await client.retention.readGraph(repository, versions, { checkBlobs: true });
  const validation = client.retention.validate(graph);
  const result: PackageResult = { package: pkg, repository, versions: versions.length, validation };
  const broken = brokenEntries([result]);
  if (validation.ok) io.log('valid: every tag pulls completely, no ghost, partial or orphaned image');
  for (const entry of broken) {
    const tags = entry.tags.length === 0 ? '' : ` (${entry.tags.join(', ')})`;
    io.error(`${repository}: ${entry.problem} ${entry.digest}${tags}: ${entry.detail}`, {
      title: `Broken image in ${repository}`,
    });
  }
  for (const reason of validation.incomplete)
    io.warning(`${repository}: ${reason}`, { title: 'Graph incomplete' });
  return result;
}

function logPlan(plan: RetentionPlan, repository: string, dryRun: boolean, io: ActionIo): void {
  io.log(
    `plan: keep ${plan.summary.keep}, delete ${plan.summary.delete} of ${plan.summary.versions} versions${dryRun ? ' (dry run)' : ''}`,
  );
  for (const decision of plan.decisions) {
    const why = decision.reasons.map((reason) => `${reason.rule}: ${reason.message}`).join('; ');
    io.log(`  ${decision.action === 'delete' ? 'delete' : 'keep  '} ${describe(decision)} — ${why}`);
  }
  for (const warning of plan.warnings)
    io.warning(`${repository}: ${warning.message}`, { title: 'Retention' });
  if (plan.blocked) {
    io.error(
      `${repository}: part of the registry graph could not be read, so nothing is deleted (fail closed): ${plan.unreadable.map((item) => `${item.digest}: ${item.reason}`).join('; ') || 'see the warnings'}`,
      { title: `Cleanup of ${repository} blocked` },
    );
  }
}

function logOutcome(outcome: CleanupPackageOutcome, io: ActionIo): void {
  const { repository, report } = outcome;
  for (const failure of report?.failed ?? []) {
    io.error(`${repository}: deleting version ${describe(failure)} failed: ${failure.error.message}`, {
      title: `Cleanup of ${repository}`,
    });
  }
  for (const skipped of report?.skipped ?? []) {
    io.warning(`${repository}: version ${describe(skipped)} was not deleted: ${skipped.why}`, {
      title: `Cleanup of ${repository}`,
    });
  }
  const gone = report?.deleted.filter((entry) => entry.outcome === 'already-gone') ?? [];
  if (gone.length > 0) {
    io.warning(
      `${repository}: ${gone.length} version${gone.length === 1 ? ' was' : 's were'} already gone when deleted (404: removed since the list was read): ${gone.map(describe).join('; ')}`,
      { title: `Cleanup of ${repository}` },
    );
  }
  if (outcome.status === 'vanished') {
    io.warning(
      `${repository}: the package was listed, then gone before its versions were read: ${outcome.error ?? ''}`,
      {
        title: 'Package vanished',
      },
    );
  } else if (outcome.status === 'partial') {
    io.notice(
      `${repository}: the API budget ran out here; ${outcome.deferred.length} deletion${outcome.deferred.length === 1 ? '' : 's'} continue in the next run`,
      { title: `Cleanup of ${repository}` },
    );
  } else if (outcome.error !== undefined && report === undefined) {
    io.error(`${repository}: ${outcome.error}`, { title: `Cleanup of ${repository}` });
  }
}

/**
 * Cleanup mode: every selected package within the API budget, continuing where the state file
 * says the last run stopped.
 */
async function cleanupMode(
  client: GhcrClient,
  inputs: ActionInputs,
  owner: string,
  budget: RequestBudget,
  io: ActionIo,
): Promise<{ packages: PackageResult[]; run: CleanupPackagesResult }> {
  const run = await cleanupPackages(client, {
    owner,
    packages: inputs.packages,
    policy: inputs.policy,
    dryRun: inputs.dryRun,
    budget,
    ...(inputs.stateFile === undefined ? {} : { state: createFileCleanupState(inputs.stateFile) }),
    ...definedProps({ minAge: inputs.minAge }),
    onEvent(event) {
      switch (event.type) {
        case 'selected':
          io.log(
            `${event.packages.length} package${event.packages.length === 1 ? '' : 's'} selected; API budget ${budget.limit} requests${event.resumed.length === 0 ? '' : `; ${event.resumed.length} finished by an earlier run of this cycle (state file) are skipped`}`,
          );
          break;
        case 'start':
          io.group(`Clean up ${owner}/${event.package}`);
          break;
        case 'package':
          io.log(`${event.versions} active versions; reading the registry graph`);
          break;
        case 'planned':
          logPlan(event.plan, `${owner}/${event.package}`, inputs.dryRun, io);
          break;
        case 'progress':
          if (event.progress.outcome !== 'dry-run') {
            const { done, total, outcome, id, digest } = event.progress;
            io.log(`  [${done}/${total}] ${outcome} ${id} ${digest}`);
          }
          break;
        case 'finished':
          logOutcome(event.result, io);
          io.endGroup();
          break;
        case 'stopped':
          io.notice(
            `stopped before the API budget runs out: ${event.reason}; ${event.pending.length} package${event.pending.length === 1 ? '' : 's'} left for the next run${inputs.stateFile === undefined ? ' (set state-file to continue where this run stopped)' : ''}`,
            { title: 'GHCR cleanup' },
          );
          break;
      }
    },
  });
  for (const pattern of inputs.packages.filter((name) => /[*?]/.test(name))) {
    if (!run.selected.some(packageNameMatcher(pattern))) {
      io.warning(
        `packages: "${pattern}" matches none of the container packages of ${owner} that the token can see`,
        { title: 'No package matched' },
      );
    }
  }
  const packages = run.packages.map(
    (outcome): PackageResult => ({
      package: outcome.package,
      repository: outcome.repository,
      versions: outcome.versions,
      status: outcome.status,
      deferred: outcome.deferred,
      ...definedProps({ plan: outcome.plan, graph: outcome.graph, report: outcome.report }),
      ...(outcome.error === undefined || outcome.report !== undefined ? {} : { error: outcome.error }),
    }),
  );
  return { packages, run };
}

/** The gate's policy inputs with the files they name read: a key given as a path, the trusted root. */
async function readGatePolicy(inputs: GatePolicyInputs): Promise<SignaturePolicy> {
  const { key, trustedRoot, ...rest } = inputs;
  return {
    ...rest,
    ...(key === undefined ? {} : { key: key.includes('-----BEGIN') ? key : await readFile(key, 'utf8') }),
    ...(trustedRoot === undefined
      ? {}
      : { trustedRoot: JSON.parse(await readFile(trustedRoot, 'utf8')) as unknown }),
  };
}

async function runGate(
  client: GhcrClient,
  inputs: ActionInputs,
  io: ActionIo,
): Promise<{ result?: GateResult; error?: string }> {
  const gate = inputs.gate;
  if (gate === undefined) return {};
  io.group(`Vulnerability gate: ${gate.image}`);
  try {
    const policy = gate.policy === undefined ? undefined : await readGatePolicy(gate.policy);
    const result = await client.vulnerabilities.gate(gate.image, {
      failOn: gate.failOn,
      ignore: [...gate.ignore],
      whenNoReport: gate.whenNoReport,
      ...definedProps({ policy }),
      allowUnverified: gate.allowUnverified,
    });
    io.log(result.reason);
    for (const report of result.reports) {
      io.log(
        `  report ${report.digest ?? report.location ?? report.format}: ${report.verified ? 'verified' : 'unverified'}, ${report.reason}`,
      );
    }
    for (const finding of result.findings) {
      io.log(`  ${finding.severity.padEnd(8)} ${finding.id} ${finding.package ?? ''} (${finding.source})`);
    }
    if (result.passed)
      io.notice(`gate passed for ${gate.image}: ${result.reason}`, { title: 'Vulnerability gate' });
    else io.error(`gate blocked ${gate.image}: ${result.reason}`, { title: 'Vulnerability gate' });
    return { result };
  } catch (error) {
    const message = messageOf(error);
    io.error(`gate for ${gate.image} could not run: ${message}`, { title: 'Vulnerability gate' });
    return { error: message };
  } finally {
    io.endGroup();
  }
}

/**
 * Runs the action with the runner's environment (`INPUT_*`, `GITHUB_OUTPUT`,
 * `GITHUB_STEP_SUMMARY`, `GITHUB_API_URL`, `GITHUB_REPOSITORY_OWNER`). Never rejects: every
 * failure becomes an `::error::` annotation and `exitCode: 1`.
 * @public
 */
/**
 * Sync mode: the mirrors of `config` brought in step (a dry run only plans). A run stopped by a
 * source's rate limit is not a failure: the next scheduled run continues where it stopped.
 */
async function syncMode(
  client: GhcrClient,
  config: string,
  dryRun: boolean,
  io: ActionIo,
): Promise<SyncFileResult> {
  const result = await syncFromFile(client, config, { dryRun });
  for (const item of result.report.items) io.log(formatSyncItem(item));
  for (const note of result.report.notes) io.log(note);
  for (const item of result.report.items.filter((entry) => entry.action === 'failed')) {
    io.error(formatSyncItem(item), { title: 'Sync' });
  }
  if (result.exitCode === 3) {
    io.notice("a source registry's rate limit stopped the sync; the next run continues where it stopped", {
      title: 'Sync',
    });
  }
  return result;
}

/** The tags a sync copied (or, in a dry run, would copy): `source → target`. */
function syncedTags(report: SyncReport): string[] {
  return report.items
    .filter((item) => item.action === 'copied' || item.action === 'would-copy')
    .map((item) => `${item.source} → ${item.target}`);
}

export async function runAction(
  env: ActionEnvironment,
  options: RunActionOptions = {},
): Promise<ActionResult> {
  const io = createActionIo({
    write: options.write ?? ((text) => process.stdout.write(text)),
    ...(env.GITHUB_OUTPUT ? { outputFile: env.GITHUB_OUTPUT } : {}),
    ...(env.GITHUB_STEP_SUMMARY ? { summaryFile: env.GITHUB_STEP_SUMMARY } : {}),
  });
  const outputs: Record<string, string> = {};
  const setOutput = (name: string, value: string): void => {
    outputs[name] = io.redact(value);
    io.setOutput(name, value);
  };

  // Mask first, before anything could print it: the token as given and as GHCR's Bearer form.
  const rawToken = tokenOf(env);
  if (rawToken !== '') {
    io.mask(rawToken);
    io.mask(Buffer.from(rawToken).toString('base64'));
  }

  const parsed = parseInputs(env);
  if (!parsed.ok) {
    const problems = parsed.problems.map(formatProblem);
    for (const [index, problem] of parsed.problems.entries()) {
      io.error(problems[index] ?? '', { title: `Invalid input "${problem.input}"` });
    }
    io.appendSummary(renderSummary({ dryRun: true, validate: false, packages: [], problems }));
    return { exitCode: 1, outputs, packages: [], problems };
  }
  const inputs = parsed.inputs;

  let failed = false;
  const packages: PackageResult[] = [];
  let selected: readonly string[] | undefined;
  let run: RunProgress | undefined;
  let gateOutcome: { result?: GateResult; error?: string } = {};
  let synced: SyncFileResult | undefined;
  let client: GhcrClient | undefined;
  // One budget for every GitHub API request of this run (listing, versions, deletions).
  const budget = createRequestBudget({ limit: inputs.budget });
  try {
    client = createGhcrClient({
      registry: inputs.registry,
      // The Packages API, untagging and deletion are GitHub's: whatever the host, it is a GHCR.
      flavor: 'ghcr',
      // The token goes to the action's registry only; every other registry a sync reads from gets
      // what the runner has for it (docker/login-action's config.json, DOCKER_AUTH_CONFIG), else
      // anonymous access. The Packages API gets the token.
      credentials: chainCredentials([
        staticCredentials({ username: 'token', password: inputs.token }, { registries: [inputs.registry] }),
        defaultCredentialChain({ env }),
      ]),
      apiCredentials: staticCredentials({ username: 'token', password: inputs.token }),
      versions: { apiUrl: inputs.apiUrl },
      // The budget stops the run before GitHub's limit is reached (the next run continues), so the
      // transport's pre-emptive slow-down near the limit would only spend runner minutes waiting.
      transportOptions: { middleware: [budget.middleware], rateLimit: { preemptiveThreshold: 0 } },
      ...definedProps({ dispatcher: options.dispatcher, clock: options.clock }),
    });

    gateOutcome = await runGate(client, inputs, io);
    if (inputs.gate !== undefined && gateOutcome.result?.passed !== true) failed = true;

    const owner = inputs.owner;
    if (inputs.mode === 'sync' && inputs.syncConfig !== undefined) {
      io.group(`Sync ${inputs.syncConfig}`);
      try {
        synced = await syncMode(client, inputs.syncConfig, inputs.dryRun, io);
        if (synced.exitCode === 1) failed = true;
      } catch (error) {
        failed = true;
        io.error(`sync from ${inputs.syncConfig} failed: ${messageOf(error)}`, { title: 'Sync' });
      } finally {
        io.endGroup();
      }
    } else if (owner !== undefined && inputs.packages.length > 0) {
      if (inputs.mode === 'cleanup') {
        try {
          const cleaned = await cleanupMode(client, inputs, owner, budget, io);
          packages.push(...cleaned.packages);
          selected = cleaned.run.selected;
          run = { complete: cleaned.run.complete, pending: cleaned.run.pending };
          if (cleaned.packages.some((result) => result.status === 'failed')) failed = true;
        } catch (error) {
          failed = true;
          io.error(`cleaning up the packages of ${owner} failed: ${messageOf(error)}`, { title: 'Packages' });
        }
      } else {
        let names: string[] = [];
        try {
          names = await expandPackages(client, owner, inputs.packages, io);
          selected = names;
        } catch (error) {
          failed = true;
          io.error(`listing the packages of ${owner} failed: ${messageOf(error)}`, { title: 'Packages' });
        }
        if (inputs.mode === 'list') io.log(`${names.length} packages: ${names.join(', ')}`);
        for (const pkg of inputs.mode === 'validate' ? names : []) {
          const repository = `${owner}/${pkg}`;
          io.group(`Validate ${repository}`);
          try {
            const result = await validatePackage(client, pkg, repository, io);
            packages.push(result);
            if (result.validation?.ok === false) failed = true;
          } catch (error) {
            failed = true;
            const message = messageOf(error);
            packages.push({ package: pkg, repository, versions: 0, error: message });
            io.error(`${repository}: ${message}`, { title: `Validate ${repository}` });
          } finally {
            io.endGroup();
          }
        }
      }
    }
  } catch (error) {
    failed = true;
    io.error(messageOf(error), { title: 'GHCR cleanup' });
  } finally {
    await client?.close();
  }

  const entries = versionEntries(packages);
  const write = (name: string, list: readonly (VersionEntry | BrokenEntry)[]): void => {
    const { json, dropped } = fitJson(list as readonly { reason?: string }[]);
    if (dropped > 0) {
      io.warning(
        `output ${name} holds ${list.length - dropped} of ${list.length} entries (GitHub caps an output at 1 MB); the log has all of them`,
      );
    }
    setOutput(name, json);
  };
  write('deleted', entries.deleted);
  write('kept', entries.kept);
  write('failed', entries.failed);
  write('broken', brokenEntries(packages));
  setOutput('dry-run', String(inputs.dryRun));
  if (selected !== undefined && selected.length > MAX_MATRIX_JOBS) {
    io.warning(
      `output matrix lists ${selected.length} packages; a job matrix takes at most ${MAX_MATRIX_JOBS} jobs, so split the selection (packages: a-*, then b-*, …)`,
      { title: 'Matrix' },
    );
  }
  setOutput('matrix', JSON.stringify(selected ?? []));
  setOutput('pending', JSON.stringify(run?.pending ?? []));
  setOutput('complete', String(run?.complete ?? true));
  setOutput('requests', String(budget.used));
  setOutput('gate-passed', inputs.gate === undefined ? '' : String(gateOutcome.result?.passed === true));
  setOutput('sync-status', synced?.report.status ?? '');
  setOutput('synced', JSON.stringify(synced === undefined ? [] : syncedTags(synced.report)));
  io.appendSummary(
    renderSummary({
      dryRun: inputs.dryRun,
      validate: inputs.validate,
      mode: inputs.mode,
      packages,
      run: {
        budget: { limit: budget.limit, used: budget.used },
        ...(selected === undefined ? {} : { selected: selected.length }),
        ...(run === undefined ? {} : run),
        ...definedProps({ stateFile: inputs.stateFile }),
      },
      ...(inputs.gate === undefined ? {} : { gate: { image: inputs.gate.image, ...gateOutcome } }),
    }),
  );
  if (synced !== undefined) io.appendSummary(synced.markdown);

  return {
    exitCode: failed ? 1 : 0,
    outputs,
    packages,
    ...definedProps({ run, gate: gateOutcome.result }),
    problems: [],
  };
}
