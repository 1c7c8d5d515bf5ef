import type { CommandRegistrar } from '../command.js';
import { registerAttachCommand } from './attach.js';
import { registerCleanupCommand } from './cleanup.js';
import { registerCopyCommand } from './copy.js';
import { registerDeleteCommand } from './delete.js';
import { registerGateCommand } from './gate.js';
import { registerIndexCommand } from './index.js';
import { registerInspectCommand } from './inspect.js';
import { registerLoginCommand } from './login.js';
import { registerLogoutCommand } from './logout.js';
import { registerPullCommand } from './pull.js';
import { registerPushCommand } from './push.js';
import { registerReferrersCommand } from './referrers.js';
import { registerServeCommand } from './serve.js';
import { registerSignCommand } from './sign.js';
import { registerSyncCommand } from './sync.js';
import { registerTagCommand } from './tag.js';
import { registerTagsCommand } from './tags.js';
import { registerUntagCommand } from './untag.js';
import { registerVerifyCommand } from './verify.js';
import { registerVersionsCommand } from './versions.js';

/**
 * Every command, in the order `ghcr --help` lists them. A new command is one file in this folder
 * and one line here.
 * @internal
 */
export const COMMANDS: readonly CommandRegistrar[] = [
  registerPushCommand,
  registerPullCommand,
  registerCopyCommand,
  registerSyncCommand,
  registerInspectCommand,
  registerTagsCommand,
  registerTagCommand,
  registerUntagCommand,
  registerDeleteCommand,
  registerIndexCommand,
  registerReferrersCommand,
  registerAttachCommand,
  registerVersionsCommand,
  registerCleanupCommand,
  registerGateCommand,
  registerVerifyCommand,
  registerSignCommand,
  registerLoginCommand,
  registerLogoutCommand,
  registerServeCommand,
];
