/**
 * The runner's side of a JavaScript action, without `@actions/core`: workflow commands on stdout
 * (`::error::`, `::warning::`, `::add-mask::`, `::group::`), step outputs in the file named by
 * `GITHUB_OUTPUT` and the job summary in the file named by `GITHUB_STEP_SUMMARY`. Formats as the
 * runner documents them: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { InternalError, redactText } from '@ghcr/oci-types';

/**
 * Escapes the message of a workflow command: `%`, CR and LF (the runner decodes them back).
 * @internal
 */
export function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/**
 * Escapes a property value of a workflow command (`title=…`): as {@link escapeData}, plus `:` and `,`.
 * @internal
 */
export function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * Properties of an annotation.
 * @internal
 */
export interface AnnotationProperties {
  /** Shown as the annotation's title. If omitted, none. */
  readonly title?: string;
}

/**
 * Where an action writes: stdout (logs and workflow commands), the outputs file and the summary
 * file. Every text passes through {@link redactText} with the registered secrets first, so a
 * token never reaches the log, an output or the summary even where `::add-mask::` would not apply
 * (the files are not masked by the runner).
 * @internal
 */
export interface ActionIo {
  /** Registers a secret: `::add-mask::` for the runner, and redaction here. */
  mask(secret: string): void;
  /** Redacts the registered secrets (and `Bearer …`/`Basic …` fragments) from a text. */
  redact(text: string): string;
  log(line: string): void;
  error(message: string, properties?: AnnotationProperties): void;
  warning(message: string, properties?: AnnotationProperties): void;
  notice(message: string, properties?: AnnotationProperties): void;
  group(title: string): void;
  endGroup(): void;
  /** Sets a step output (written to `GITHUB_OUTPUT` with a unique heredoc delimiter). */
  setOutput(name: string, value: string): void;
  /** Appends Markdown to the job summary (`GITHUB_STEP_SUMMARY`). */
  appendSummary(markdown: string): void;
}

/**
 * What {@link createActionIo} writes to.
 * @internal
 */
export interface ActionIoOptions {
  /** Receives stdout text (each call ends with a newline). */
  readonly write: (text: string) => void;
  /** The file named by `GITHUB_OUTPUT`. If omitted, outputs are only logged. */
  readonly outputFile?: string;
  /** The file named by `GITHUB_STEP_SUMMARY`. If omitted, the summary is not written. */
  readonly summaryFile?: string;
}

function propertiesText(properties: AnnotationProperties | undefined): string {
  if (properties?.title === undefined) return '';
  return ` title=${escapeProperty(properties.title)}`;
}

/**
 * Formats a step output for the `GITHUB_OUTPUT` file: `name<<DELIMITER`, the value, `DELIMITER`.
 * The delimiter is random, and checked against the value (as `@actions/core` does).
 * @throws InternalError when the name or value contains the delimiter (practically never).
 * @internal
 */
export function formatOutput(
  name: string,
  value: string,
  delimiter = `ghadelimiter_${randomUUID()}`,
): string {
  if (name.includes(delimiter) || value.includes(delimiter)) {
    throw new InternalError(
      `output "${name}" contains the heredoc delimiter ${delimiter}; it cannot be written`,
    );
  }
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

/**
 * Creates the action's writer.
 * @internal
 */
export function createActionIo(options: ActionIoOptions): ActionIo {
  const secrets: string[] = [];
  const redact = (text: string): string => redactText(text, secrets);
  const line = (text: string): void => options.write(`${redact(text)}\n`);
  const command = (name: string, message: string, properties?: AnnotationProperties): void =>
    line(`::${name}${propertiesText(properties)}::${escapeData(message)}`);
  return {
    mask(secret) {
      if (secret === '') return;
      // Mask every line of a multi-line secret (the runner masks line by line).
      for (const part of secret.split(/\r?\n/)) {
        if (part === '' || secrets.includes(part)) continue;
        options.write(`::add-mask::${escapeData(part)}\n`);
        secrets.push(part);
      }
    },
    redact,
    log: line,
    error: (message, properties) => command('error', message, properties),
    warning: (message, properties) => command('warning', message, properties),
    notice: (message, properties) => command('notice', message, properties),
    group: (title) => line(`::group::${escapeData(title)}`),
    endGroup: () => line('::endgroup::'),
    setOutput(name, value) {
      const safe = redact(value);
      if (options.outputFile === undefined) {
        line(`output ${name}: ${safe.length > 200 ? `${safe.slice(0, 200)}…` : safe}`);
        return;
      }
      appendFileSync(options.outputFile, formatOutput(name, safe), 'utf8');
    },
    appendSummary(markdown) {
      if (options.summaryFile === undefined) return;
      appendFileSync(options.summaryFile, `${redact(markdown)}\n`, 'utf8');
    },
  };
}
