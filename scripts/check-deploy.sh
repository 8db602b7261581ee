#!/usr/bin/env bash
# Checks docker/, k8s/ and monitoring/ (details in scripts/deploy-check/main.mjs).
# Installs what it needs outside the repo: promtool from Debian's prometheus package (extracted,
# so no service is installed or started) and npm tools into a temp prefix. Exit 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${DEPLOY_CHECK_TOOLS:-${TMPDIR:-/tmp}/pixveil-deploy-tools}"
mkdir -p "$TOOLS/bin"

if command -v promtool >/dev/null 2>&1; then
  PROMTOOL="$(command -v promtool)"
else
  PROMTOOL="$TOOLS/bin/promtool"
  if [ ! -x "$PROMTOOL" ]; then
    echo "deploy-check: fetching promtool (Debian package prometheus)"
    # apt's stderr only on failure: as root it warns that _apt cannot write to the temp dir.
    apt-get update -qq >/dev/null
    (cd "$TOOLS" && rm -f prometheus_*.deb \
      && { apt-get download -qq prometheus >/dev/null 2>apt.log || { cat apt.log >&2; exit 1; }; } \
      && dpkg-deb -x prometheus_*.deb pkg && cp pkg/usr/bin/promtool "$PROMTOOL" && rm -rf pkg prometheus_*.deb apt.log)
  fi
fi

# kubernetes-models declares Node >= 22 but its validators run on Node 20 (checked here);
# typescript 5.9 for the typed-literal check (7.x has no JS compiler entry point).
NPM_TOOLS="yaml@2.9.1 kubernetes-models@5.1.0 @kubernetes-models/keda@2.0.0 typescript@5.9.3"
if [ "$(cat "$TOOLS/.installed" 2>/dev/null)" != "$NPM_TOOLS" ]; then
  echo "deploy-check: installing $NPM_TOOLS into $TOOLS"
  [ -f "$TOOLS/package.json" ] || echo '{"private":true}' > "$TOOLS/package.json"
  # shellcheck disable=SC2086
  (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error --engine-strict=false $NPM_TOOLS >/dev/null)
  echo "$NPM_TOOLS" > "$TOOLS/.installed"
fi

if [ ! -f dist/src/cli.js ]; then
  echo "deploy-check: building (npx tsc -p .)"
  npx tsc -p .
fi

DEPLOY_CHECK_TOOLS="$TOOLS" PROMTOOL="$PROMTOOL" node scripts/deploy-check/main.mjs
