import type { GateResult as ClientGateResult } from '@ghcr/client';
import { parsePlatform } from '@ghcr/manifest';
import type { Vulnerability } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import { type Command, Option } from 'commander';
import { collect } from '../arguments.js';
import { type CommandRegistrar, contextOf } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { formatImage, imageReference } from '../references.js';
import { addPolicyOptions, type PolicyFlags, policyFromFlags } from '../signature-policy.js';

/**
 * `--json` shape of `ghcr gate`: where, then `@ghcr/client`'s verdict (`passed`, `reason`,
 * `failOn`, `blocking`, `findings`, `ignored`, `reports`, `images`, `reference`, `digest`).
 * @public
 */
export interface GateResult extends ClientGateResult {
  readonly registry: string;
  readonly repository: string;
}

const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;

function findingLine(finding: Vulnerability): string {
  const where = finding.package === undefined ? '' : ` ${finding.package}`;
  const version = finding.installedVersion === undefined ? '' : ` ${finding.installedVersion}`;
  const fixed =
    finding.fixedVersion === undefined || finding.fixedVersion === ''
      ? ''
      : ` (fixed in ${finding.fixedVersion})`;
  return `  ${finding.severity.padEnd(8)} ${finding.id}${where}${version}${fixed}`;
}

/** The verdict's advice in the command's terms: its flags rather than the library's option names. */
function inFlags(reason: string): string {
  return reason
    .replaceAll("whenNoReport: 'pass'", '--no-report pass')
    .replaceAll("whenNoReport is 'pass'", '--no-report is pass')
    .replaceAll("whenUnreadable: 'skip'", '--skip-unreadable')
    .replaceAll(
      'and give the policy it verifies under, or set allowUnverified',
      'and give the policy (--key, or --certificate-identity with --certificate-oidc-issuer and --trusted-root), or pass --allow-unverified',
    )
    .replaceAll(
      'no signature policy was given',
      'no signature policy was given (--key, --certificate-identity…, --policy)',
    );
}

/**
 * `ghcr gate <ref>`: the deployment gate over the vulnerability reports attached to an image
 * (cosign vuln attestations, SARIF, CycloneDX, Trivy). Exit 3 when it blocks.
 * @internal
 */
export const registerGateCommand: CommandRegistrar = (program, runtime) => {
  const gate = program
    .command('gate')
    .description('pass or block an image on the vulnerability reports attached to it (exit 3 when blocked)')
    .argument('<ref>', 'registry/repository:tag or @digest (":latest" if neither)')
    .addOption(
      new Option('--fail-on <severity>', 'block on findings of this severity or worse')
        .choices([...SEVERITIES])
        .default('high'),
    )
    .option('--ignore <id>', 'a vulnerability id never to block on (repeatable)', collect)
    .addOption(
      new Option(
        '--no-report <when>',
        'what an image without any report means: fail (default) or pass',
      ).choices(['pass', 'fail']),
    )
    .option(
      '--platform <os/arch[/variant]>',
      'of an index, judge only this platform (default: every platform)',
    )
    .option(
      '--allow-unverified',
      'count reports whose signature is not verified (the old, trusting mode; default: only verified reports count)',
    );
  addPolicyOptions(gate).action(async (refArgument: string, _options: unknown, command: Command) => {
    const context = contextOf(runtime, command);
    const options = command.opts<{
      failOn: (typeof SEVERITIES)[number];
      ignore?: string[];
      // Commander gives `true` when `--no-report` is absent.
      report: 'pass' | 'fail' | true;
      skipUnreadable?: boolean;
      platform?: string;
      allowUnverified?: boolean;
    }>();
    const policy = await policyFromFlags(command.opts<PolicyFlags>());
    const reference = imageReference(refArgument);
    if (options.platform !== undefined) parsePlatform(options.platform);
    const client = context.client(reference.registry);
    const verdict = await client.vulnerabilities.gate(
      formatImage(reference.registry, reference.repository, reference.tag, reference.digest),
      {
        failOn: options.failOn,
        ignore: options.ignore ?? [],
        whenNoReport: options.report === 'pass' ? 'pass' : 'fail',
        whenUnreadable: options.skipUnreadable === true ? 'skip' : 'fail',
        ...definedProps({ platform: options.platform, policy }),
        allowUnverified: options.allowUnverified === true,
      },
    );
    const result: GateResult = {
      registry: reference.registry,
      repository: reference.repository,
      ...verdict,
      reason: inFlags(verdict.reason),
    };
    context.output.emit(result, () => [
      `${formatImage(result.registry, result.repository, undefined, result.digest)}: ${result.reason}`,
      ...result.blocking.map(findingLine),
      ...result.reports.map(
        (report) =>
          `  report ${report.digest ?? report.location ?? report.format}: ${report.verified ? 'verified' : 'unverified'}, ${report.reason}`,
      ),
    ]);
    if (!result.passed) context.setExitCode(ExitCode.Blocked);
  });
};
