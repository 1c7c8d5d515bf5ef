import type { CommandRegistrar } from '../command.js';
import { registerDeleteCommand } from './delete.js';
import { registerInspectCommand } from './inspect.js';
import { registerLoginCommand } from './login.js';
import { registerLogoutCommand } from './logout.js';
import { registerServeCommand } from './serve.js';
import { registerTagCommand } from './tag.js';
import { registerTagsCommand } from './tags.js';
import { registerUntagCommand } from './untag.js';

/**
 * Every command, in the order `ghcr --help` lists them. A new command is one file in this folder
 * and one line here.
 * @internal
 */
export const COMMANDS: readonly CommandRegistrar[] = [
  registerInspectCommand,
  registerTagsCommand,
  registerTagCommand,
  registerUntagCommand,
  registerDeleteCommand,
  registerLoginCommand,
  registerLogoutCommand,
  registerServeCommand,
];

/**
 * Commands of the contract (issue 7) that are not available yet; `ghcr --help` says so.
 * @internal
 */
export const NOT_YET_AVAILABLE: readonly string[] = [
  'push',
  'pull',
  'copy',
  'index create',
  'referrers',
  'attach',
  'versions',
  'cleanup',
  'gate',
];
