export { type DemoRelease, type DemoSeed, type SeedDemoOptions, seedDemo } from './demo.js';
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
