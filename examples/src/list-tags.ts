/** Lists every tag of a repository, following the registry's `Link` pages. */
import { type ExampleTarget, runIfMain } from './connect.js';
import { pushWithTags } from './push-and-tag.js';

export async function listTags(target: ExampleTarget, repository: string): Promise<string[]> {
  return target.client.tags.list(repository);
}

runIfMain(import.meta.url, async (target) => {
  const repository = `${target.owner}/hello`;
  // Against the embedded simulation there is nothing yet: push something to list.
  if (target.simulation !== undefined) await pushWithTags(target, repository);
  return listTags(target, repository);
});
