import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cell, renderSummary } from './summary.js';
import { parseOutputsFile } from './testing/support.js';
import { createActionIo, escapeData, escapeProperty, formatOutput } from './workflow-commands.js';

const directories: string[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

describe('workflow commands', () => {
  it('escapes data and properties as the runner decodes them', () => {
    expect(escapeData('50% done\r\nnext')).toBe('50%25 done%0D%0Anext');
    expect(escapeProperty('a: b, c')).toBe('a%3A b%2C c');
  });

  it('formats a multi-line output with a heredoc delimiter the value does not contain', () => {
    const text = formatOutput('kept', '[\n1\n]', 'ghadelimiter_x');
    expect(text).toBe('kept<<ghadelimiter_x\n[\n1\n]\nghadelimiter_x\n');
    expect(parseOutputsFile(text)).toEqual({ kept: '[\n1\n]' });
    expect(() => formatOutput('kept', 'a ghadelimiter_x b', 'ghadelimiter_x')).toThrow(/delimiter/);
  });

  it('masks secrets, redacts them from logs, annotations, outputs and the summary', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'cleanup-action-io-'));
    directories.push(directory);
    let stdout = '';
    const io = createActionIo({
      write: (text) => {
        stdout += text;
      },
      outputFile: join(directory, 'output'),
      summaryFile: join(directory, 'summary.md'),
    });
    io.mask('ghp_secret1234');
    io.log('token is ghp_secret1234');
    io.error('failed with ghp_secret1234\nsecond line', { title: 'Cleanup: app, team/app' });
    io.warning('careful');
    io.group('Clean up octo/app');
    io.endGroup();
    io.setOutput('deleted', '["ghp_secret1234"]');
    io.appendSummary('| ghp_secret1234 |');
    expect(stdout.split('\n')).toEqual([
      '::add-mask::ghp_secret1234',
      'token is REDACTED',
      '::error title=Cleanup%3A app%2C team/app::failed with REDACTED%0Asecond line',
      '::warning::careful',
      '::group::Clean up octo/app',
      '::endgroup::',
      '',
    ]);
    expect(parseOutputsFile(await readFile(join(directory, 'output'), 'utf8'))).toEqual({
      deleted: '["REDACTED"]',
    });
    expect(await readFile(join(directory, 'summary.md'), 'utf8')).toBe('| REDACTED |\n');
  });
});

describe('summary', () => {
  it('escapes table cells', () => {
    expect(cell('a|b\nc <script>')).toBe('a\\|b c &lt;script>');
  });

  it('renders the invalid inputs of a run that did not start', () => {
    const markdown = renderSummary({
      dryRun: true,
      validate: false,
      packages: [],
      problems: ['input "keep-n-tagged": must be a whole number'],
    });
    expect(markdown).toContain('## GHCR cleanup: not run');
    expect(markdown).toContain('### Invalid inputs\n\n- input "keep-n-tagged": must be a whole number');
  });
});
