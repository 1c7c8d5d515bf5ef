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

/** Commands of `ghcr`: their names, and what adds them to the program. @internal */
export interface CommandEntry {
  /** The names they are invoked by (`ghcr <name>`); a test checks them against what `register` adds. */
  readonly names: readonly string[];
  readonly register: CommandRegistrar;
}

/**
 * Every command, in the order `ghcr --help` lists them. A new command is one file in this folder
 * and one line here.
 * @internal
 */
export const COMMANDS: readonly CommandEntry[] = [
  { names: ['push'], register: registerPushCommand },
  { names: ['pull'], register: registerPullCommand },
  { names: ['copy'], register: registerCopyCommand },
  { names: ['sync'], register: registerSyncCommand },
  { names: ['inspect'], register: registerInspectCommand },
  { names: ['tags'], register: registerTagsCommand },
  { names: ['tag'], register: registerTagCommand },
  { names: ['untag'], register: registerUntagCommand },
  { names: ['delete'], register: registerDeleteCommand },
  { names: ['index'], register: registerIndexCommand },
  { names: ['referrers'], register: registerReferrersCommand },
  { names: ['attach'], register: registerAttachCommand },
  { names: ['versions'], register: registerVersionsCommand },
  { names: ['cleanup'], register: registerCleanupCommand },
  { names: ['gate'], register: registerGateCommand },
  { names: ['verify', 'attestations'], register: registerVerifyCommand },
  { names: ['sign'], register: registerSignCommand },
  { names: ['login'], register: registerLoginCommand },
  { names: ['logout'], register: registerLogoutCommand },
  { names: ['serve'], register: registerServeCommand },
];
