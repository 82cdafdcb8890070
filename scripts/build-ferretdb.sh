#!/usr/bin/env bash
# Build FerretDB v1.24.2 from the Go module proxy into a cache outside the repo, once.
#
# Why not plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`:
#  1. `go install pkg@version` looks up the module's deprecation notice through the proxy's
#     version list, which the registry here refuses (403); a pinned `require` in a throwaway
#     module downloads the same version without that lookup.
#  2. The module zip omits build/version/version.txt (FerretDB generates it from git), and the
#     binary panics at start without it. FerretDB's docs say to create it by hand with
#     `v<major>.<minor>.<patch>`, so we build from a writable copy that has it.
set -euo pipefail

VERSION=v1.24.2
CACHE_DIR="${FERRY_CACHE_DIR:-$HOME/.cache/ferry}"
BIN="$CACHE_DIR/bin/ferretdb-$VERSION"

if [[ -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

# Two checkouts (or a test run and CI) may start services at once; they share this cache, and
# two builds in one work folder clobber each other. The second waits, then finds the binary.
mkdir -p "$CACHE_DIR"
exec 8>"$CACHE_DIR/build.lock"
flock 8
if [[ -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build-ferretdb: go is not installed" >&2; exit 3; }
work="$CACHE_DIR/build-ferretdb"
rm -rf "$work"
mkdir -p "$work/mod" "$CACHE_DIR/bin"
cd "$work/mod"
cat > go.mod <<GOMOD
module ferry.local/ferretdb-build

go 1.22

require github.com/FerretDB/FerretDB $VERSION
GOMOD
{
  go mod download -json "github.com/FerretDB/FerretDB@$VERSION" > "$work/download.json"
  src_dir=$(sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p' "$work/download.json")
  [[ -d "$src_dir" ]] || { echo "build-ferretdb: module source not found after download" >&2; exit 3; }
  cp -r "$src_dir" "$work/src"
  chmod -R u+w "$work/src"
  echo "$VERSION" > "$work/src/build/version/version.txt"
  go mod edit -replace "github.com/FerretDB/FerretDB=$work/src"
  # The replaced module's own go.mod lists its dependencies; tidy pulls their checksums.
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/FerretDB/FerretDB/cmd/ferretdb"\n' > tools.go
  GOFLAGS=-mod=mod go mod tidy
  GOFLAGS=-mod=mod go build -tags ferretdb_no_sqlite -o "$BIN.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb
  mv "$BIN.tmp" "$BIN"
} >&2
rm -rf "$work"
"$BIN" --version >&2
echo "$BIN"
