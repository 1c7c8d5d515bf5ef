import type { Platform } from '@ghcr/oci-types';
import type { Simulation } from '../simulation.js';
import { type PushedImage, type PushedManifest, pushImage, pushIndex, pushManifest } from './push.js';

/**
 * Options of {@link seedDockerHub}.
 * @public
 */
export interface SeedDockerHubOptions {
  /** A Hub account with a token and a private repository `<user>/private`. If omitted, `octocat`. */
  readonly user?: string | undefined;
  /** Tags of `library/alpine` (all on the same two-platform index). If omitted, `3`, `3.20` and `latest`. */
  readonly alpineTags?: readonly string[] | undefined;
}

/**
 * What {@link seedDockerHub} created.
 * @public
 */
export interface DockerHubSeed {
  /** The account. */
  readonly user: string;
  /** Its token (the password of `Basic user:token` at the token endpoint), with pull and push. */
  readonly token: string;
  /** `library/alpine` (public): an OCI index over linux/amd64 and linux/arm64/v8. */
  readonly alpine: {
    readonly repository: string;
    readonly index: PushedManifest;
    readonly platforms: readonly PushedImage[];
  };
  /** `library/busybox` (public): a single-platform Docker v2 image tagged `latest`. */
  readonly busybox: { readonly repository: string; readonly image: PushedImage };
  /** `<user>/private`: a private image tagged `latest`. */
  readonly private: { readonly repository: string; readonly image: PushedImage };
}

const PLATFORMS: readonly Platform[] = [
  { architecture: 'amd64', os: 'linux' },
  { architecture: 'arm64', os: 'linux', variant: 'v8' },
];

/**
 * Seeds Docker Hub content for the dockerhub profile: official images under `library/` (public,
 * pullable with anonymous tokens) and an account with a private repository. Built with real bytes
 * through `@ghcr/manifest`, stored directly (no HTTP, no quota spent).
 * @public
 */
export async function seedDockerHub(
  simulation: Simulation,
  options: SeedDockerHubOptions = {},
): Promise<DockerHubSeed> {
  const user = options.user ?? 'octocat';
  simulation.createUser(user);
  simulation.createOrganization('library');
  const token = simulation.createToken({ user, scopes: ['read:packages', 'write:packages'] });

  const alpine = 'library/alpine';
  const platforms: PushedImage[] = [];
  for (const platform of PLATFORMS) {
    platforms.push(
      await pushImage(simulation, alpine, {
        platform,
        seed: `${alpine} ${platform.architecture}`,
      }),
    );
  }
  const [first, ...rest] = options.alpineTags ?? ['3', '3.20', 'latest'];
  const index = pushIndex(
    simulation,
    alpine,
    platforms.map((image, position) => ({
      ...image.descriptor,
      platform: PLATFORMS[position] as Platform,
    })),
    first === undefined ? {} : { tag: first },
  );
  for (const tag of rest) pushManifest(simulation, alpine, index.parsed, tag);
  simulation.setVisibility('library', 'alpine', 'public');

  const busybox = 'library/busybox';
  const busyboxImage = await pushImage(simulation, busybox, {
    seed: busybox,
    tag: 'latest',
    format: 'docker',
  });
  simulation.setVisibility('library', 'busybox', 'public');

  const own = `${user}/private`;
  const privateImage = await pushImage(simulation, own, { seed: own, tag: 'latest' });
  simulation.setVisibility(user, 'private', 'private');

  return {
    user,
    token,
    alpine: { repository: alpine, index, platforms },
    busybox: { repository: busybox, image: busyboxImage },
    private: { repository: own, image: privateImage },
  };
}
