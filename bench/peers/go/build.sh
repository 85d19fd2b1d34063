#!/usr/bin/env bash
# build.sh NAME OUTDIR — builds the Go peer bench/peers/go/NAME (mapbench: the
# map benchmarks'; stwassign: stw_assign's) to OUTDIR/NAME. Offline and
# self-contained: GOCACHE and GOPATH live under OUTDIR and the module proxy is
# off (the peers use the standard library only), so it works as root on a
# fresh clone.
set -euo pipefail

if [ "$#" -ne 2 ] || [ ! -d "$(dirname "${BASH_SOURCE[0]}")/$1" ]; then
  echo "usage: $0 NAME OUTDIR   (NAME: a directory of bench/peers/go, e.g. mapbench or stwassign)" >&2
  exit 2
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' not found on PATH; install Go 1.19 or later (Debian: apt-get install golang-go)" >&2
  exit 1
fi

name="$1"
mkdir -p "$2"
out="$(cd "$2" && pwd)"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/$name" && pwd)"

export GOCACHE="$out/go-cache"
export GOPATH="$out/go-path"
export GOFLAGS=-mod=mod
export GOPROXY=off
export GO111MODULE=on

cd "$src"
go build -o "$out/$name" .
echo "built $out/$name ($(go version))"
