#!/usr/bin/env bash
# The machine's limit for a copy inside one registry (bench/lib/limits.mjs): the requests such a
# copy cannot do without, sent by curl.
#   limit-mount.sh HOST FROM_REPO REPO TAG MANIFEST_MEDIA_TYPE DIGEST [DIGEST …]
# One curl GETs the manifest of FROM_REPO:TAG; one curl mounts every blob into REPO
# (`POST …/blobs/uploads/?mount=<digest>&from=FROM_REPO`, each must be answered 201), 4 at a time;
# one curl PUTs the manifest it read under REPO:TAG.
#
# Most of this script's wall time is starting bash and three curls (~70 ms on the benchmark
# machine), which a Node CLI does not pay and whose start the floor already holds, so the figure
# it reports is the requests' own time from curl's timings (`time_total`, connection included):
# the GET, plus the mounts (at least the slowest one, and at least their sum over 4, as 4 run at
# once), plus the PUT. It prints that as the last line, `{"requestMs": N}`.
set -euo pipefail
host=$1 from=$2 repo=$3 tag=$4 media_type=$5
shift 5
base="http://$host"
curl=(curl --silent --no-progress-meter --show-error --fail)
manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
get_s=$("${curl[@]}" -w '%{time_total}' -H "Accept: $media_type" -o "$manifest" "$base/v2/$from/manifests/$tag")
mounts=()
for digest in "$@"; do
  mounts+=(-X POST -o /dev/null "$base/v2/$repo/blobs/uploads/?mount=$digest&from=$from")
done
mapfile -t answers < <("${curl[@]}" --parallel --parallel-max 4 -w '%{http_code} %{time_total}\n' "${mounts[@]}")
if [ "${#answers[@]}" -ne "$#" ]; then
  echo "limit-mount: expected $# mount answers, got ${#answers[@]}" >&2
  exit 1
fi
for answer in "${answers[@]}"; do
  if [ "${answer%% *}" != 201 ]; then
    echo "limit-mount: a mount into $repo was answered ${answer%% *}, not 201" >&2
    exit 1
  fi
done
put_s=$("${curl[@]}" -w '%{time_total}' -o /dev/null -H "Content-Type: $media_type" -T "$manifest" "$base/v2/$repo/manifests/$tag")
printf '%s\n' "${answers[@]}" | awk -v get="$get_s" -v put="$put_s" '
  { sum += $2; if ($2 > slowest) slowest = $2 }
  END {
    mounts = sum / 4 > slowest ? sum / 4 : slowest
    printf "{\"requestMs\": %.3f}\n", (get + mounts + put) * 1000
  }'
