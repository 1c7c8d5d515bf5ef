#!/usr/bin/env bash
# The PUT stage of the machine's limit (bench/lib/limits.mjs): a whole push done by curl.
#   limit-put.sh HOST REPO TAG MANIFEST_FILE MANIFEST_MEDIA_TYPE DIGEST FILE [DIGEST FILE …]
# One curl POSTs an upload session per blob; one curl PUTs every blob as a streamed monolithic
# upload (`-T FILE "<location>&digest=…"`), 4 at a time; one curl PUTs the manifest under TAG.
set -euo pipefail
host=$1 repo=$2 tag=$3 manifest=$4 media_type=$5
shift 5
base="http://$host"
digests=()
files=()
posts=()
while [ "$#" -gt 0 ]; do
  digests+=("$1")
  files+=("$2")
  posts+=(-X POST -o /dev/null "$base/v2/$repo/blobs/uploads/")
  shift 2
done
curl=(curl --silent --no-progress-meter --show-error --fail)
# One Location per line (docker-registry answers absolute URLs; a relative one gets the host).
mapfile -t locations < <("${curl[@]}" -w '%header{location}\n' "${posts[@]}")
if [ "${#locations[@]}" -ne "${#digests[@]}" ]; then
  echo "limit-put: expected ${#digests[@]} upload sessions, got ${#locations[@]}" >&2
  exit 1
fi
puts=()
for i in "${!digests[@]}"; do
  location=${locations[$i]}
  case $location in /*) location=$base$location ;; esac
  case $location in *\?*) separator='&' ;; *) separator='?' ;; esac
  puts+=(-o /dev/null -T "${files[$i]}" "$location${separator}digest=${digests[$i]}")
done
# No `Expect: 100-continue` round trip before each body (ours sends none either).
"${curl[@]}" --parallel --parallel-max 4 -H 'Expect:' -H 'Content-Type: application/octet-stream' "${puts[@]}"
"${curl[@]}" -o /dev/null -H "Content-Type: $media_type" -T "$manifest" "$base/v2/$repo/manifests/$tag"
