#!/usr/bin/env bash
# Runs `npm run bench` for two checkouts of pixveil on this machine, interleaved (A B, then B A, …) so
# load drift hits both alike, per profile, and prints medians side by side (bench/compare-builds.ts).
#
#   bench/compare-builds.sh <old checkout> <new checkout> [rounds=2] [profiles=default,light] [bench args…]
#   e.g. bench/compare-builds.sh ../main . 3 default,light --quick
#
# Each checkout needs `npm ci` done; both are built first. A checkout that predates PROFILE=light runs
# it as PROFILE=legacy TILING=off FACES_ON_PERSONS=false PLATES_ON_VEHICLES=false (the same settings).
# Results: bench/results/compare-<time>/<profile>-<old|new>-<round>.json in the new checkout.
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
old=$(cd "$1" && pwd)
new=$(cd "$2" && pwd)
rounds=${3:-2}
profiles=${4:-default,light}
shift $(( $# < 4 ? $# : 4 ))
out="$new/bench/results/compare-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

for dir in "$old" "$new"; do (cd "$dir" && npm run build --silent); done

# One bench run of one checkout for one profile; its latest.json is copied into $out.
run() {
  local dir=$1 label=$2 profile=$3 round=$4
  # Admission off for both: the closed-loop bench keeps 16 images in flight, and a loaded machine's slow
  # first drain rate would refuse uploads (older builds' benches do not turn it off themselves).
  local env=(LATENCY_SLO_SECONDS=0) asked=$profile
  if [ "$profile" = light ] && ! grep -q "'light'" "$dir/src/config/schema.ts"; then
    env+=(TILING=off FACES_ON_PERSONS=false PLATES_ON_VEHICLES=false)
    asked=legacy
  fi
  echo "=== $profile $label round $round ($dir, load $(cut -d' ' -f1 /proc/loadavg))" >&2
  # A build that sets libuv's threadpool size at its entry point runs its bench with the same size (npm run bench does).
  local preload=()
  [ -f "$dir/bin/preload-threadpool.cjs" ] && preload=(-r "$dir/bin/preload-threadpool.cjs")
  (cd "$dir" && env "${env[@]}" node "${preload[@]}" dist/bench/run.js "--profiles=$asked" "$@" > "$out/$profile-$label-$round.log" 2>&1)
  cp "$dir/bench/results/latest.json" "$out/$profile-$label-$round.json"
}

for ((r = 1; r <= rounds; r++)); do
  for profile in ${profiles//,/ }; do
    if (( r % 2 == 1 )); then
      run "$old" old "$profile" "$r" "$@"
      run "$new" new "$profile" "$r" "$@"
    else
      run "$new" new "$profile" "$r" "$@"
      run "$old" old "$profile" "$r" "$@"
    fi
  done
done
node "$new/dist/bench/compare-builds.js" "$out"
