// The machine's limit: the same blobs moved by curl, hashed by openssl and written by Perl, against the
// same registry and disk, each timed from spawn to exit like ours and skopeo. No Node in any of it,
// so what it measures is what the registry, the loopback and the disk allow, not Node's overhead
// (that is bench/ceiling.mjs, kept as a diagnostic).
//
//   put          POST one upload session per blob (one curl), then every blob as one streamed
//                monolithic PUT `<location>&digest=…` (`curl -T FILE`, 4 at a time, one curl), then
//                the manifest (one curl): a whole push, checked afterwards like ours.
//   get          every blob GET to /dev/null, 4 at a time (one curl).
//   get-sha256   every blob GET, 4 at a time, piped into one `openssl dgst -sha256` (every byte
//                received is hashed once, as a verifying client must; the blobs arrive interleaved,
//                so the digest printed is not checked); and again split over 4 streams with an
//                openssl each (hashing on every core). The stage's time is the faster of the two.
//   disk         each blob's size written to a file (zeros, through the page cache as a pull writes)
//                and synced, 4 blobs at a time (limit-disk.pl: one Perl process, 4 workers).
//   get-sha256-and-put
//                get-sha256 (either way) from the source and put to the destination at the same
//                time: the two stages of a copy to a second registry overlapped perfectly, with the
//                two registries, curl and openssl sharing the machine's cores as in a real copy.
//   get-and-put  get (to /dev/null, no hashing) from the source and put to the destination at the
//                same time: less work than any copy that verifies what it reads, and the GET never
//                waits for the PUT; still no strict bound (curl's upload can be slower than a
//                copy's; see LIMIT_NOT_STRICT).
//   mount        a copy inside one registry: GET the manifest, mount every blob into the other
//                repository (4 at a time, one curl), PUT the manifest. Not timed from spawn to
//                exit: starting bash and three curls is most of that, so the script reports the
//                requests' own time from curl's timings (limit-mount.sh).
//
// A scenario's limit is its slowest stage (push: put; pull: the slower of get-sha256 and disk;
// copy inside one registry: mount; copy to a second registry: the slowest of get-sha256, put,
// get-and-put and get-sha256-and-put, which is the last wherever the cores are shared), the least
// time the operation can take on this machine.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CURL = ['curl', '--silent', '--no-progress-meter', '--show-error', '--fail'];
const PARALLEL = ['--parallel', '--parallel-max', '4'];

/** Every blob of the image (config first), as `{ digest, size, file }`. */
function blobsOf(image) {
  return [image.config, ...image.layers].map((blob) => ({
    digest: blob.digest,
    size: blob.size,
    file: join(image.dir, 'blobs/sha256', blob.digest.slice(7)),
  }));
}

/** Single-quotes a word for bash. */
const quote = (word) => `'${String(word).replaceAll("'", `'\\''`)}'`;
const line = (words) => words.map(quote).join(' ');
const PUT_SCRIPT = fileURLToPath(new URL('./limit-put.sh', import.meta.url));
const DISK_SCRIPT = fileURLToPath(new URL('./limit-disk.pl', import.meta.url));

/**
 * The curl push of `image` to `host/repo:tag` (`limit-put.sh`): POST sessions, PUT blobs, PUT
 * manifest. Returns `[command, args]` for `run`.
 */
export function limitPut(image, host, repo, tag) {
  const manifest = join(image.dir, 'blobs/sha256', image.manifest.digest.slice(7));
  return [
    'bash',
    [
      PUT_SCRIPT,
      host,
      repo,
      tag,
      manifest,
      image.manifest.mediaType,
      ...blobsOf(image).flatMap((blob) => [blob.digest, blob.file]),
    ],
  ];
}

/** GET every blob of `image` from `host/repo` to /dev/null, 4 at a time. */
export function limitGet(image, host, repo) {
  const gets = blobsOf(image).flatMap((blob) => [
    '-o',
    '/dev/null',
    `http://${host}/v2/${repo}/blobs/${blob.digest}`,
  ]);
  return [CURL[0], [...CURL.slice(1), ...PARALLEL, ...gets]];
}

/** GET every blob of `image`, 4 at a time, through one `openssl dgst -sha256` in a pipe. */
export function limitGetSha256(image, host, repo) {
  const urls = blobsOf(image).map((blob) => `http://${host}/v2/${repo}/blobs/${blob.digest}`);
  return [
    'bash',
    ['-c', `set -euo pipefail\n${line([...CURL, ...PARALLEL, ...urls])} | openssl dgst -sha256 >/dev/null`],
  ];
}

/**
 * The same GETs as {@link limitGetSha256}, hashed on every core: the blobs are dealt round-robin
 * to 4 workers, each one curl fetching its blobs in turn into its own openssl. Faster for a few
 * large blobs (one openssl for every stream hashes on one core), slower for many small ones (each
 * stream waits for one blob at a time); the GET + sha256 stage is the faster of the two.
 */
export function limitGetSha256Split(image, host, repo) {
  const urls = blobsOf(image).map((blob) => `http://${host}/v2/${repo}/blobs/${blob.digest}`);
  const workers = Array.from({ length: Math.min(4, urls.length) }, (_, worker) =>
    urls.filter((_, index) => index % 4 === worker),
  );
  return [
    'bash',
    [
      '-c',
      [
        'set -euo pipefail',
        'pids=()',
        ...workers.map(
          (mine) => `(${line([...CURL, ...mine])} | openssl dgst -sha256 >/dev/null) & pids+=("$!")`,
        ),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's array expansion, not a template
        'for pid in "${pids[@]}"; do wait "$pid"; done',
      ].join('\n'),
    ],
  ];
}

/**
 * Writes each blob's size of zeros to a file in `dir` and syncs it, 4 blobs at a time
 * (`limit-disk.pl`: one Perl process and 4 forked workers), as the tools write and sync several
 * blobs at once (ext4 commits concurrent syncs together, so one after another would overstate the
 * time). It was a `dd` per blob (through `xargs -P 4 sh -c`) until the eighteenth round: 64 × 1 MiB
 * took 0.59–0.61 s that way and 0.16 s in one process, so the stage had measured process starts.
 */
export function limitDisk(image, dir) {
  const words = blobsOf(image).flatMap((blob, index) => [join(dir, `blob-${index}`), blob.size]);
  return [
    'bash',
    ['-c', `set -euo pipefail\nmkdir -p ${quote(dir)}\nexec perl ${line([DISK_SCRIPT, ...words])}`],
  ];
}

/**
 * A GET stage (`limitGet`, or with the hashing `limitGetSha256` or `limitGetSha256Split`, from the
 * source) and the PUT stage (`limitPut`, to the destination) at the same time: what a copy to a
 * second registry does when its stages overlap perfectly. On a machine whose cores the two
 * registries, curl and openssl share, that takes longer than the slower stage alone (64 × 1 MiB
 * on 2 cores, each run through a Node wrapper: 1.13 s against 0.86 s for the PUT stage). With the
 * hashing it is no strict lower bound: curl hands every byte to openssl through a pipe, and ours
 * beat it in some runs; the report shows it as the limit but claims nothing from it
 * (`LIMIT_NOT_STRICT`). Without the hashing neither (see `LIMIT_NOT_STRICT`).
 */
export function limitGetAndPut([getCommand, getArgs], [putCommand, putArgs]) {
  return [
    'bash',
    [
      '-c',
      [
        'set -euo pipefail',
        `${line([getCommand, ...getArgs])} & get=$!`,
        line([putCommand, ...putArgs]),
        'wait "$get"',
      ].join('\n'),
    ],
  ];
}

const MOUNT_SCRIPT = fileURLToPath(new URL('./limit-mount.sh', import.meta.url));

/**
 * The requests a copy of `image` from `host/from:tag` to `host/repo:tag` inside one registry
 * cannot do without, by curl (`limit-mount.sh`): GET the manifest, mount every blob 4 at a time,
 * PUT the manifest.
 */
export function limitMount(image, host, from, repo, tag) {
  return [
    'bash',
    [
      MOUNT_SCRIPT,
      host,
      from,
      repo,
      tag,
      image.manifest.mediaType,
      ...blobsOf(image).map((blob) => blob.digest),
    ],
  ];
}

/** The limit tools each scenario runs, and how its limit is made of them. */
export const LIMIT_TOOLS = {
  push: ['limit-put'],
  pull: ['limit-get', 'limit-get-sha256', 'limit-get-sha256-split', 'limit-disk'],
  'copy-same': ['limit-mount'],
  'copy-cross': [
    'limit-get-sha256',
    'limit-get-sha256-split',
    'limit-put',
    'limit-get-and-put',
    'limit-get-sha256-and-put',
    'limit-get-sha256-split-and-put',
  ],
};

/** What a limit tool measures, for tables. */
export const LIMIT_TITLES = {
  'limit-put': 'PUT (curl: POST + streamed monolithic PUT per blob, 4 at a time; manifest)',
  'limit-get': 'GET to /dev/null (curl, 4 at a time)',
  'limit-get-sha256': 'GET through one `openssl dgst -sha256` in a pipe (curl, 4 at a time)',
  'limit-get-sha256-split':
    'GET through `openssl dgst -sha256` in a pipe, 4 streams with an openssl each (curl)',
  'limit-disk': 'disk write (one Perl process, each blob synced, 4 at a time)',
  'limit-get-and-put':
    'GET to /dev/null (curl, 4 at a time, no hashing) and, at the same time, the PUT stage',
  'limit-get-sha256-and-put':
    'GET through one `openssl dgst -sha256` (curl, 4 at a time) and, at the same time, the PUT stage',
  'limit-get-sha256-split-and-put':
    'GET through `openssl dgst -sha256`, 4 streams with an openssl each, and, at the same time, the PUT stage',
  'limit-mount':
    "the requests by curl (GET the manifest, mount every blob 4 at a time, PUT the manifest), curl's own timings without process start",
};

/**
 * The limit tools that are no strict lower bound (the stages of a copy at once with the hashing:
 * curl hands every byte to openssl through a pipe, two more copies than a copy in one process
 * makes). They show the slowest stage and the fractions of it, but an out-of-reach claim takes
 * the slowest of the other stages (lib/report.mjs): in the eighth round's last run the copies to a
 * second registry of 1 × 256 and 8 × 32 MiB were "missed" from them, in the ninth round's two runs
 * "out of reach", on the same code. The stages at once without hashing (`limit-get-and-put`) are
 * no strict bound either, though they hash nothing and the GET never waits for the PUT: curl's
 * upload can be slower than a copy's, and ours finished a copy of 1 × 256 MiB inside `node -e 0`
 * plus their work in the eleventh round's run 4 (1.20 against 1.21 s) while run 5 claimed that
 * copy out of reach from them (the twelfth round). A bound that a run can beat and the next not
 * proves nothing, so they too are shown and bear no claim.
 */
export const LIMIT_NOT_STRICT = new Set([
  'limit-get-sha256-and-put',
  'limit-get-sha256-split-and-put',
  'limit-get-and-put',
]);

/**
 * The stages that bound a scenario (the slowest of them is its limit), each a list of ways to do
 * it (the fastest of which is the stage's time).
 */
export const LIMIT_STAGES = {
  push: [['limit-put']],
  pull: [['limit-get-sha256', 'limit-get-sha256-split'], ['limit-disk']],
  'copy-same': [['limit-mount']],
  'copy-cross': [
    ['limit-get-sha256', 'limit-get-sha256-split'],
    ['limit-put'],
    ['limit-get-and-put'],
    ['limit-get-sha256-and-put', 'limit-get-sha256-split-and-put'],
  ],
};
