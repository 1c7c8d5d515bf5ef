import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A real Docker credential helper, `docker-credential-test`, for tests: a Node script that keeps
 * its entries in the JSON file `$TEST_HELPER_STORE` and speaks the docker-credential-helpers
 * protocol (store / get / erase / list; "credentials not found" with exit 1).
 */
const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const file = process.env.TEST_HELPER_STORE;
const load = () => { try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return {}; } };
const save = (entries) => fs.writeFileSync(file, JSON.stringify(entries));
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const entries = load();
  const action = process.argv[2];
  const notFound = () => { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); };
  if (action === 'store') {
    const { ServerURL, Username, Secret } = JSON.parse(input);
    entries[ServerURL] = { Username, Secret };
    save(entries);
  } else if (action === 'get') {
    const entry = entries[input.trim()];
    if (entry === undefined) notFound();
    process.stdout.write(JSON.stringify({ ServerURL: input.trim(), Username: entry.Username, Secret: entry.Secret }));
  } else if (action === 'erase') {
    if (entries[input.trim()] === undefined) notFound();
    delete entries[input.trim()];
    save(entries);
  } else if (action === 'list') {
    process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.Username]))));
  } else {
    process.stderr.write('unknown action ' + action + '\\n');
    process.exit(2);
  }
});
`;

/** Writes `docker-credential-test` into `<directory>/bin`; returns that bin directory and the store file. */
export async function installTestCredentialHelper(
  directory: string,
): Promise<{ bin: string; store: string }> {
  const bin = join(directory, 'bin');
  await mkdir(bin, { recursive: true });
  const path = join(bin, 'docker-credential-test');
  await writeFile(path, SCRIPT);
  await chmod(path, 0o755);
  return { bin, store: join(directory, 'helper-store.json') };
}

/** The helper's entries (`{ serverUrl: { Username, Secret } }`), or {} before the first store. */
export async function readHelperStore(
  store: string,
): Promise<Record<string, { Username: string; Secret: string }>> {
  try {
    return JSON.parse(await readFile(store, 'utf8')) as Record<string, { Username: string; Secret: string }>;
  } catch {
    return {};
  }
}
