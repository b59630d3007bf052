#!/usr/bin/env bash
# Provides http_async_client.so for the installed Debian kamailio package, which does not ship it
# (Debian builds the module's source but packages no group containing it). The module is built
# from Debian's own kamailio source package, of exactly the installed version, configured as
# debian/rules configures the whole build (same compile flags, so Kamailio's module version
# check accepts it), and only that module is compiled. The result is kept in
#
#   $KAMAILIO_ASYNC_MODULE_ROOT/<kamailio package version>/http_async_client.so
#   (default root /usr/local/lib/kamailio-async)
#
# and reused while it is there and still loads in the installed kamailio: delete that folder to
# build it again. Prints the folder on stdout (everything else goes to stderr), for
# RTROUTE_E2E_KAMAILIO_MODULES or Kamailio's -L; test/e2e/helpers/tools.ts also looks there.
#
#   scripts/kamailio-async-module.sh
#
# Needs root (apt-get) and the network to Debian's archive when it builds; installs, when
# missing, what it builds with: dpkg-dev gcc make pkgconf libcurl4-openssl-dev libevent-dev.
# The source comes through a private apt source list (deb-src for this release), so the system's
# apt configuration is left as it is.
set -euo pipefail

root="${KAMAILIO_ASYNC_MODULE_ROOT:-/usr/local/lib/kamailio-async}"
kamailio=/usr/sbin/kamailio
say () { echo "[kamailio-async] $*" >&2; }
started=$SECONDS

version="$(dpkg-query -W -f='${Version}' kamailio 2>/dev/null || true)"
if [ -z "$version" ] || [ ! -x "$kamailio" ]; then
  say "the kamailio package is not installed: apt-get install -y --no-install-recommends kamailio"
  exit 1
fi
multiarch="$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH)"
modules="/usr/lib/$multiarch/kamailio/modules"
dest="$root/$version"

# Loads the module the way the shipped config does (pv and tm first): dlopen with every symbol
# resolved, and Kamailio's check that version and compile flags are the binary's own.
loads () {
  local dir="$1" cfg
  cfg="$(mktemp)"
  printf '%s\n' 'loadmodule "pv.so"' 'loadmodule "tm.so"' 'loadmodule "http_async_client.so"' 'request_route { exit; }' >"$cfg"
  if "$kamailio" -c -f "$cfg" -L "$modules:$dir" >"$cfg.out" 2>&1; then
    rm -f "$cfg" "$cfg.out"
    return 0
  fi
  grep -E 'ERROR|CRITICAL' "$cfg.out" | tail -5 >&2 || true
  rm -f "$cfg" "$cfg.out"
  return 1
}

if [ -f "$dest/http_async_client.so" ]; then
  if loads "$dest"; then
    say "cached: $dest/http_async_client.so (kamailio $version); delete $dest to build it again"
    echo "$dest"
    exit 0
  fi
  say "$dest/http_async_client.so does not load in the installed kamailio: building it again"
fi

export DEBIAN_FRONTEND=noninteractive
apt_wait=(-o DPkg::Lock::Timeout=600)
build_deps=(dpkg-dev gcc make pkgconf libcurl4-openssl-dev libevent-dev)
missing=()
for pkg in "${build_deps[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get -q update </dev/null >&2
  apt-get -q install -y --no-install-recommends "${apt_wait[@]}" "${missing[@]}" </dev/null >&2
fi

work="$(mktemp -d /var/tmp/kamailio-async.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# apt downloads as _apt where it can.
if id _apt >/dev/null 2>&1; then chown _apt "$work"; fi

# A private source list, lists folder and no binary caches: nothing of the system's apt changes.
. /etc/os-release
mkdir -p "$work/apt/lists/partial" "$work/apt/parts"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $VERSION_CODENAME main" >"$work/apt/sources.list"
apt_src=(-o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts="$work/apt/parts"
  -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
say "fetching Debian's kamailio source $version ($VERSION_CODENAME)"
apt-get -q "${apt_src[@]}" update </dev/null >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; exit 1; }
(cd "$work" && apt-get -q "${apt_src[@]}" source --only-source "kamailio=$version" </dev/null >>"$work/apt.log" 2>&1) ||
  { tail -20 "$work/apt.log" >&2; exit 1; }
src="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'kamailio-*' | head -1)"
[ -n "$src" ] && [ -d "$src/src/modules/http_async_client" ] || { say "no http_async_client in the unpacked source"; exit 1; }

# Configured as debian/rules does (dpkg-buildflags with hardening=+all, -DVERSION_NODATE, the
# same prefix and paths), then only the one module is compiled; the core is not built.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cc_opts="$(cd "$src" && dpkg-buildflags --get CPPFLAGS) $(cd "$src" && dpkg-buildflags --get CFLAGS) -DVERSION_NODATE"
ld_opts="$(cd "$src" && dpkg-buildflags --get LDFLAGS)"
say "building only src/modules/http_async_client (log: make output, shown on failure)"
if ! {
  make -C "$src" cfg quiet=verbose prefix=/usr cfg_target=/etc/kamailio/ FLAVOUR=kamailio \
    LIBDIR="lib/$multiarch" CC_EXTRA_OPTS="$cc_opts" LD_EXTRA_OPTS="$ld_opts" include_modules=http_async_client &&
  make -C "$src/src" -j2 modules modules=modules/http_async_client quiet=verbose
} >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log" >&2
  exit 1
fi
built="$src/src/modules/http_async_client/http_async_client.so"
loads "$(dirname "$built")" || { say "the module built but does not load in $kamailio"; exit 1; }

# Installed whole or not at all.
mkdir -p "$root"
stage="$(mktemp -d "$root/.stage.XXXXXX")"
install -m 0644 "$built" "$stage/http_async_client.so"
{
  echo "http_async_client.so for the Debian kamailio package $version ($multiarch)"
  echo "source: Debian's kamailio source package $version ($VERSION_CODENAME), only src/modules/http_async_client compiled"
  echo "CC_EXTRA_OPTS: $cc_opts"
  echo "LD_EXTRA_OPTS: $ld_opts"
  echo "kamailio: $("$kamailio" -v | sed -n 1p)"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - started)) s"
  echo "sha256: $(sha256sum "$stage/http_async_client.so" | cut -d' ' -f1)"
} >"$stage/BUILD-INFO"
chmod 0755 "$stage"
rm -rf "$dest"
mv "$stage" "$dest"
say "built $dest/http_async_client.so in $((SECONDS - started)) s"
echo "$dest"
