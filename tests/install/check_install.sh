#!/bin/sh
# check_install.sh BUILD_ROOT SOURCE_ROOT [B_SANITIZE]
#
# Installs BUILD_ROOT into a fresh temporary destdir, checks that the umbrella
# header, the library and tricolor.pc landed there, then builds and runs
# SOURCE_ROOT/tests/install/consumer against that install through pkg-config.
# tricolor.pc is copied with its prefix= rewritten to point into the destdir
# (PKG_CONFIG_SYSROOT_DIR would also re-root the system .pc files it requires).
set -eu
build=$1 src=$2 sanitize=${3:-none}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tricolor-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
dest=$tmp/destdir

fail() { echo "check_install: FAILED: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "meson install"; }

pcs=$(find "$dest" -name tricolor.pc)
[ "$(printf '%s\n' "$pcs" | grep -c .)" -eq 1 ] || fail "expected one tricolor.pc under the destdir, found: '$pcs'"
prefix=$(sed -n 's/^prefix=//p' "$pcs")
[ -n "$prefix" ] || fail "no prefix= in $pcs"
mkdir "$tmp/pkgconfig"
sed "s|^prefix=.*|prefix=$dest$prefix|" "$pcs" >"$tmp/pkgconfig/tricolor.pc"
export PKG_CONFIG_PATH="$tmp/pkgconfig"

includedir=$(pkg-config --variable=includedir tricolor)
libdir=$(pkg-config --variable=libdir tricolor)
[ -f "$includedir/tricolor/tricolor.h" ] || fail "missing $includedir/tricolor/tricolor.h"
ls "$libdir"/libtricolor.* >/dev/null 2>&1 || fail "no libtricolor.* in $libdir"
echo "installed: $pcs"
echo "Cflags: $(pkg-config --cflags tricolor)"
echo "Libs:   $(pkg-config --libs tricolor)"

meson setup "$tmp/consumer" "$src/tests/install/consumer" \
  -Db_sanitize="$sanitize" -Dpkg_config_path="$tmp/pkgconfig" >"$tmp/setup.log" 2>&1 ||
  { cat "$tmp/setup.log" >&2; fail "meson setup of the consumer"; }
ninja -C "$tmp/consumer" >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log" >&2; fail "building the consumer"; }
"$tmp/consumer/consumer" || fail "the consumer exited with $?"
