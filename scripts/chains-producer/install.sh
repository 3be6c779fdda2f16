#!/usr/bin/env bash
# Builds test/chains-producer (Tekton Chains driven as a library, see its producer/producer.go) once per Chains
# release into a cache OUTSIDE the repository:
#   ${GATE_TOOLS:-$HOME/.cache/rekor-gate/tools}/chains-producer-<version>
# v0.28.1 (the last release that logs intoto 0.0.1) from test/chains-producer/v028, v0.29.1 (the newest the
# module proxy serves: dsse 0.0.1, storage.oci.encoding-format) from test/chains-producer/v029. A binary is
# rebuilt only when its sources change (a hash of the module's and producer's files is kept beside it).
# The module proxy lists v0.29.x but refuses its zip ("This module version is not available"); when
# CHAINS_GIT_DIR names a git repository of github.com/tektoncd/chains holding the tag, test/chains-producer/modzip
# lays the tag out as a GOPROXY=file:// directory and the go command checks that zip against go.sum's h1: line,
# which is the checksum database's, so the build is of the published release or fails.
# (Not REKOR_GATE_TOOLS: the CLI reads REKOR_GATE_* variables as its flags.) Builds run under `nice -n 15`.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
src="$here/test/chains-producer"
tools="${GATE_TOOLS:-$HOME/.cache/rekor-gate/tools}"
go="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[ -x "$go" ] || { echo "chains-producer: no Go toolchain (set GO= or put go on PATH); the Chains tests will skip" >&2; exit 1; }
mkdir -p "$tools"
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
proxy="$tools/chains-goproxy"
start=$(date +%s)

stamp() { (cd "$src" && cat "$1/go.mod" "$1/go.sum" "$1"/*.go producer/go.mod producer/*.go) | sha256sum | cut -c1-16; }

build() { # dir version
  local dir="$1" version="$2" out="$tools/chains-producer-$2" want
  want="$(stamp "$dir")"
  if [ -x "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$want" ]; then echo "reused $out"; return; fi
  local goproxy
  goproxy="$("$go" env GOPROXY)"
  if ! (cd "$src/$dir" && "$go" mod download github.com/tektoncd/chains) >/dev/null 2>&1; then
    [ -n "${CHAINS_GIT_DIR:-}" ] || { echo "chains-producer: the module proxy does not serve github.com/tektoncd/chains@$version; set CHAINS_GIT_DIR to a git repository of it holding the tag" >&2; return 1; }
    (cd "$src/modzip" && nice -n 15 "$go" build -o "$tools/chains-modzip" .)
    "$tools/chains-modzip" --git "$CHAINS_GIT_DIR" --module github.com/tektoncd/chains --version "$version" --out "$proxy"
    goproxy="file://$proxy,$goproxy"
    echo "chains-producer: github.com/tektoncd/chains@$version from $CHAINS_GIT_DIR, checked against go.sum"
  fi
  local t0
  t0=$(date +%s)
  echo "building chains-producer $version (go build in test/chains-producer/$dir)"
  (cd "$src/$dir" && GOPROXY="$goproxy" nice -n 15 "$go" build -trimpath -o "$out.partial" .)
  mv "$out.partial" "$out"
  echo "$want" > "$out.stamp"
  echo "  $version: $(( $(date +%s) - t0 )) s, $(du -sh "$out" | cut -f1)"
}

status=0
build v028 v0.28.1 || status=1
build v029 v0.29.1 || status=1
echo "chains-producer: $(( $(date +%s) - start )) s; module cache $(du -sh "$("$go" env GOMODCACHE)" | cut -f1), build cache $(du -sh "$("$go" env GOCACHE)" | cut -f1)"
exit "$status"
