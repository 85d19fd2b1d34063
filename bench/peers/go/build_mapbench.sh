#!/usr/bin/env bash
# build_mapbench.sh OUTDIR — builds the Go peer of the map benchmarks
# (bench/peers/go/mapbench) to OUTDIR/mapbench. Offline and self-contained:
# GOCACHE and GOPATH live under OUTDIR, the module proxy is off (the program
# uses the standard library only), so it works as root on a fresh clone.
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build_mapbench.sh: 'go' not found on PATH; install Go 1.19 or later (Debian: apt-get install golang-go)" >&2
  exit 1
fi

mkdir -p "$1"
out="$(cd "$1" && pwd)"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/mapbench" && pwd)"

export GOCACHE="$out/go-cache"
export GOPATH="$out/go-path"
export GOFLAGS=-mod=mod
export GOPROXY=off
export GO111MODULE=on

cd "$src"
go build -o "$out/mapbench" .
echo "built $out/mapbench ($(go version))"
