export { type DemoRelease, type DemoSeed, type SeedDemoOptions, seedDemo } from './demo.js';
export { type DockerHubSeed, type SeedDockerHubOptions, seedDockerHub } from './dockerhub.js';
export { type OrganizationSeed, type SeedOrganizationOptions, seedOrganization } from './organisation.js';
export {
  type PushedImage,
  type PushedManifest,
  pushBlob,
  pushImage,
  pushIndex,
  pushManifest,
  type SeedImageOptions,
} from './push.js';
