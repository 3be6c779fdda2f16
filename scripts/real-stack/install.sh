#!/usr/bin/env bash
# Installs the real Sigstore stack the interop tests use, as a Go user installs it: `go install pkg@version`
# from the Go module proxy, each tool pinned (tools.txt beside this script) into a cache OUTSIDE the repository,
#   ${GATE_TOOLS:-$HOME/.cache/rekor-gate/tools}/<name>@<version>/bin/<binary>
# and Debian's mariadb-server (Trillian's storage) with apt-get. A tool already installed is reused. Prints the
# time taken and the disk used. The module and build caches live in the same directory (mod/, gocache/), so the
# Trillian schema the harness loads is at mod/github.com/google/trillian@<version>/storage/mysql/schema/.
# (Not REKOR_GATE_TOOLS: the CLI reads REKOR_GATE_* variables as its flags.)
# Builds run under `nice -n 15` with `-p ${GATE_TOOLS_JOBS:-1}`: the machines' cores are shared.
# Usage: install.sh [name ...]   (default: every tool of tools.txt; names select some of them)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tools="${GATE_TOOLS:-$HOME/.cache/rekor-gate/tools}"
go="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
jobs="${GATE_TOOLS_JOBS:-1}"
[ -x "$go" ] || { echo "install.sh: no Go toolchain (set GO= or put go on PATH)" >&2; exit 1; }
mkdir -p "$tools"
export GOMODCACHE="$tools/mod" GOCACHE="$tools/gocache" GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
start=$(date +%s)
before=$(du -sk "$tools" | cut -f1)

if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
  echo "installing mariadb-server (apt-get)"
  t0=$(date +%s)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null
  echo "  mariadb-server: $(( $(date +%s) - t0 )) s"
fi

built=0
while read -r name pkg version bin; do
  case "$name" in ''|'#'*) continue ;; esac
  if [ "$#" -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  dir="$tools/$name@$version"
  if [ -x "$dir/bin/$bin" ]; then echo "reused $name $version ($dir/bin/$bin)"; continue; fi
  # Another run (CI, an engineer) may be building the same tool: one at a time, then look again.
  exec {lock}>"$dir.lock"
  flock "$lock"
  if [ -x "$dir/bin/$bin" ]; then echo "reused $name $version ($dir/bin/$bin)"; exec {lock}>&-; continue; fi
  t0=$(date +%s)
  echo "installing $name: go install -p $jobs $pkg@$version"
  rm -rf "$dir.partial"; mkdir -p "$dir.partial/bin"
  GOBIN="$dir.partial/bin" nice -n 15 "$go" install -p "$jobs" -trimpath "$pkg@$version"
  rm -rf "$dir"; mv "$dir.partial" "$dir"
  echo "  $name: $(( $(date +%s) - t0 )) s, $(du -sh "$dir/bin/$bin" | cut -f1)"
  built=$((built + 1))
  exec {lock}>&-
done < "$here/tools.txt"

after=$(du -sk "$tools" | cut -f1)
echo "real stack: $built built, $(( $(date +%s) - start )) s; $tools holds $(( after / 1024 )) MiB" \
  "(+$(( (after - before) / 1024 )) MiB; binaries $(du -skc "$tools"/*@*/bin | tail -1 | cut -f1 | awk '{printf "%d", $1/1024}') MiB," \
  "modules $(du -sk "$GOMODCACHE" 2>/dev/null | cut -f1 | awk '{printf "%d", $1/1024}') MiB," \
  "build cache $(du -sk "$GOCACHE" 2>/dev/null | cut -f1 | awk '{printf "%d", $1/1024}') MiB)"
