import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The home directory a provider uses: `home`, else `$HOME`, else the OS's.
 * @internal
 */
export function homeOf(home: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (home !== undefined && home !== '') return home;
  const fromEnv = env.HOME ?? env.USERPROFILE;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return homedir();
}

/**
 * `$XDG_CONFIG_HOME`, else `<home>/.config`.
 * @internal
 */
export function configHomeOf(
  home: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg !== undefined && xdg !== '') return xdg;
  return join(homeOf(home, env), '.config');
}
