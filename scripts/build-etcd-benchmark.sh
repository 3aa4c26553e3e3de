#!/usr/bin/env bash
# Builds etcd's benchmark tool (tools/benchmark of etcd's source) for the
# bench/ comparisons, offline, from Debian bookworm packages:
#
# - the source: Debian's etcd source package, the version of the installed
#   golang-etcd-server-dev (`apt-get source`; needs a deb-src line and dpkg-dev).
#   golang-etcd-server-dev itself leaves tools/ out.
# - the libraries: /usr/share/gocode, from golang-etcd-server-dev and what it
#   depends on (cobra, pflag, speakeasy, go-humanize, cheggaaa/pb.v1,
#   x/time/rate, zap, grpc, ...). Nothing is downloaded from Go module proxies,
#   nothing is vendored.
# - the compiler: golang-go (Go 1.19), in GOPATH mode.
#
# Prints the path of the binary on stdout (progress on stderr). The binary is
# cached under $CAIRN_ETCD_BENCHMARK_CACHE (default $TMPDIR/cairn-etcd-benchmark)
# per package version; a second run only prints its path.
#
# One-time setup, as root, if `apt-get source` says it cannot find a source
# package: a deb-src entry mirroring /etc/apt/sources.list.d/debian.sources,
#   printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
#     > /etc/apt/sources.list.d/debian-src.sources && apt-get update
set -euo pipefail

fail() {
  echo "build-etcd-benchmark: $*" >&2
  exit 1
}

gocode="${CAIRN_GOCODE:-/usr/share/gocode}"
cache="${CAIRN_ETCD_BENCHMARK_CACHE:-${TMPDIR:-/tmp}/cairn-etcd-benchmark}"

version="$(dpkg-query -W -f='${Version}' golang-etcd-server-dev 2>/dev/null)" \
  || fail "golang-etcd-server-dev is not installed (apt-get install -y golang-go golang-etcd-server-dev dpkg-dev)"
command -v go >/dev/null || fail "go is not installed (apt-get install -y golang-go)"

work="$cache/$version"
binary="$work/benchmark"
if [ -x "$binary" ]; then
  echo "$binary"
  exit 0
fi

command -v dpkg-source >/dev/null || fail "dpkg-source is not installed; apt-get source needs it (apt-get install -y dpkg-dev)"
started_at="$(date +%s)"

# A fresh unpack each time the binary is missing: a half-unpacked tree from an interrupted run is never reused.
rm -rf "$work/source" "$work/gopath"
mkdir -p "$work/source"
(cd "$work/source" && apt-get source --only-source "etcd=$version") >&2 \
  || fail "apt-get source etcd=$version failed: add a deb-src line (see the top of $0) and run apt-get update"
shopt -s nullglob
sources=("$work"/source/etcd-*/tools/benchmark)
[ "${#sources[@]}" -eq 1 ] || fail "expected one etcd-*/tools/benchmark in $work/source, found ${#sources[@]}"

# GOPATH mode resolves each import path on its own: go.etcd.io/etcd/tools/benchmark
# from this GOPATH entry, every other go.etcd.io/etcd package from $gocode.
package="$work/gopath/src/go.etcd.io/etcd/tools/benchmark"
mkdir -p "$(dirname "$package")"
cp -r "${sources[0]}" "$package"
(
  cd "$package"
  GO111MODULE=off GOPATH="$work/gopath:$gocode" GOCACHE="$cache/go-build" GOFLAGS= CGO_ENABLED=0 \
    go build -o "$binary.partial" .
) >&2 || fail "go build of tools/benchmark failed (see above)"
mv "$binary.partial" "$binary"
echo "build-etcd-benchmark: built $binary in $(( $(date +%s) - started_at )) s" >&2
echo "$binary"
