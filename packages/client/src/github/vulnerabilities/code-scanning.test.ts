import { staticCredentials } from '@ghcr/auth';
import { ConfigError, InvalidReportError, ProtocolError } from '@ghcr/oci-types';
import { pushImage } from '@ghcr/simulation';
import { type Dispatcher, MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createGhcrClient } from '../../client.js';
import { simulatedClient } from '../../testing/simulated-client.js';
import { fixture, vulnerabilitiesFor } from '../../testing/vulnerability-reports.js';

const API = 'https://api.github.com';
const ALERTS = '/repos/octo/app/code-scanning/alerts';
const ANALYSES = '/repos/octo/app/code-scanning/analyses';

interface Seen {
  readonly path: string;
  readonly headers: Record<string, string>;
}

/**
 * A client whose registry is the simulation and whose GitHub API is a MockAgent (the simulation
 * serves no code-scanning endpoint): requests to api.github.com are routed to the mock.
 */
function bed() {
  const { sim, pat, clock } = simulatedClient();
  const mock = new MockAgent();
  mock.disableNetConnect();
  const toApi: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) =>
    String(options.origin) === API ? mock.dispatch(options, handler) : dispatch(options, handler);
  const client = createGhcrClient({
    registry: 'ghcr.io',
    dispatcher: sim.dispatcher().compose(toApi),
    credentials: staticCredentials({ username: 'octo', password: pat }),
    clock,
    transportOptions: { retry: { random: () => 0 } },
  });
  const seen: Seen[] = [];
  const api = mock.get(API);
  const reply = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    api
      .intercept({ path: (actual) => normalise(actual) === normalise(path), method: 'GET' })
      .reply((request) => {
        seen.push({ path: normalise(request.path), headers: headersOf(request.headers) });
        return {
          statusCode: 200,
          data: JSON.stringify(body),
          responseOptions: { headers: { 'content-type': 'application/json', ...headers } },
        };
      });
  return { sim, pat, client, mock, seen, reply, vulnerabilities: vulnerabilitiesFor(client) };
}

/** A path with its query parameters sorted (MockAgent hands the matcher a sorted query). */
function normalise(path: string): string {
  const url = new URL(path, API);
  url.searchParams.sort();
  return `${url.pathname}${url.search}`;
}

function headersOf(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(headers)) {
    for (let index = 0; index + 1 < headers.length; index += 2)
      out[String(headers[index]).toLowerCase()] = String(headers[index + 1]);
  } else if (headers !== null && typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value);
  }
  return out;
}

const alerts = fixture('code-scanning-alerts.json') as unknown as unknown[];
const query = (what: string, extra = '') =>
  `${what}?per_page=100&tool_name=Trivy&ref=refs%2Fheads%2Fmain${extra}`;

let open: ReturnType<typeof bed>[] = [];
afterEach(async () => {
  for (const t of open) await t.mock.close();
  open = [];
});
const start = () => {
  const t = bed();
  open.push(t);
  return t;
};

describe('code-scanning alerts (GitHub API through MockAgent)', () => {
  it('reads every page, sends the token and API version, and filters by category', async () => {
    const t = start();
    t.reply(query(ALERTS, '&state=open'), alerts.slice(0, 2), {
      link: `<${API}${ALERTS}?per_page=100&page=2>; rel="next", <${API}${ALERTS}?per_page=100&page=2>; rel="last"`,
    });
    t.reply(`${ALERTS}?per_page=100&page=2`, alerts.slice(2));
    const found = await t.vulnerabilities.codeScanningAlerts({
      owner: 'octo',
      repo: 'app',
      ref: 'refs/heads/main',
      toolName: 'Trivy',
      category: 'container-image',
    });
    expect(found).toEqual([
      {
        id: 'CVE-2023-45853',
        severity: 'critical',
        package: 'zlib',
        installedVersion: '1.2.13-r1',
        title: 'zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6',
        source: 'code-scanning',
      },
      {
        // No security_severity_level: the rule's SARIF severity (warning → medium).
        id: 'CVE-2024-0727',
        severity: 'medium',
        package: 'libssl3',
        installedVersion: '3.1.3-r0',
        fixedVersion: '3.1.4-r5',
        title: 'openssl: denial of service via null dereference',
        source: 'code-scanning',
      },
    ]);
    expect(t.seen.map((request) => request.path)).toEqual([
      normalise(query(ALERTS, '&state=open')),
      normalise(`${ALERTS}?per_page=100&page=2`),
    ]);
    for (const request of t.seen) {
      expect(request.headers.authorization).toBe(`Bearer ${t.pat}`);
      expect(request.headers['x-github-api-version']).toBe('2022-11-28');
      expect(request.headers.accept).toBe('application/vnd.github+json');
    }
  });

  it('without a category, keeps every alert of the tool', async () => {
    const t = start();
    t.reply(`${ALERTS}?per_page=100&state=dismissed`, alerts);
    const found = await t.vulnerabilities.codeScanningAlerts({
      owner: 'octo',
      repo: 'app',
      state: 'dismissed',
    });
    expect(found.map((v) => [v.id, v.severity])).toEqual([
      ['CVE-2023-45853', 'critical'],
      ['CVE-2024-0727', 'medium'],
      ['CVE-2023-39325', 'high'],
    ]);
  });

  it('refuses a malformed alert, an answer that is not a list, and bad options', async () => {
    const t = start();
    const broken = structuredClone(alerts) as { rule: { id?: unknown } }[];
    if (broken[1] !== undefined) broken[1].rule.id = null;
    t.reply(`${ALERTS}?per_page=100&state=open`, broken);
    const error = await t.vulnerabilities
      .codeScanningAlerts({ owner: 'octo', repo: 'app' })
      .catch((caught) => caught);
    expect(InvalidReportError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ format: 'code-scanning', field: '[1].rule.id' });

    t.reply(`${ALERTS}?per_page=100&state=open`, { message: 'Not a list' });
    await expect(t.vulnerabilities.codeScanningAlerts({ owner: 'octo', repo: 'app' })).rejects.toSatisfy(
      (caught) => ProtocolError.isInstance(caught) && /expected a JSON array/.test(String(caught)),
    );
    await expect(t.vulnerabilities.codeScanningAlerts({ owner: 'octo', repo: '' })).rejects.toSatisfy(
      (caught) => ConfigError.isInstance(caught) && (caught as ConfigError).field === 'repo',
    );
  });

  it('gates on code-scanning alerts when an analysis exists, and not when none does', async () => {
    const t = start();
    await pushImage(t.sim, 'octo/app', { tag: '1.0' });
    const codeScanning = {
      owner: 'octo',
      repo: 'app',
      ref: 'refs/heads/main',
      toolName: 'Trivy',
      category: 'container-image',
    };
    t.reply(query(ANALYSES), [
      { ref: 'refs/heads/main', category: 'source-tree/', tool: { name: 'Trivy' } },
      { ref: 'refs/heads/main', category: 'container-image/', tool: { name: 'Trivy' } },
    ]);
    t.reply(query(ALERTS, '&state=open'), alerts);
    const blocked = await t.vulnerabilities.gate('octo/app:1.0', {
      allowUnverified: true,
      failOn: 'critical',
      codeScanning,
    });
    expect(blocked.passed).toBe(false);
    expect(blocked.blocking.map((v) => v.id)).toEqual(['CVE-2023-45853']);
    expect(blocked.images[0]?.reports).toBe(1);
    expect(blocked.reports).toEqual([
      {
        location: 'octo/app@refs/heads/main tool Trivy category container-image',
        format: 'code-scanning',
        verified: false,
        reason:
          'not a signed report: code-scanning alerts are keyed by repository, ref and category, not by image digest',
        findings: 2,
      },
    ]);

    // Only another category was analysed: no alerts cannot mean clean, so the gate stays closed.
    t.reply(query(ANALYSES), [{ ref: 'refs/heads/main', category: 'source-tree/', tool: { name: 'Trivy' } }]);
    const closed = await t.vulnerabilities.gate('octo/app:1.0', {
      allowUnverified: true,
      failOn: 'critical',
      codeScanning,
    });
    expect(closed.passed).toBe(false);
    expect(closed.reports[0]).toMatchObject({
      findings: 0,
      reason: expect.stringMatching(/^not used: no code-scanning analysis/),
    });
    expect(closed.reason).toContain('no vulnerability report found');
    expect(t.seen.filter((request) => request.path.startsWith(ALERTS))).toHaveLength(1);
  });
});
