#!/usr/bin/env bash
# p11-kit finds the installed module: `cmake --install BUILD --prefix TMP`
# puts cnie-pkcs11.so in TMP/LIBDIR/pkcs11 (LIBDIR: the build's
# CMAKE_INSTALL_LIBDIR, lib/x86_64-linux-gnu for /usr), exporting only C_*,
# and a module file in TMP/share/p11-kit/modules.  Then `p11-kit
# list-modules` shows the token (label, serial) and p11-kit-proxy users
# (p11tool without --provider, pkcs11-tool on p11-kit-proxy.so) see it:
#  1. with a user configuration (HOME=scratch, ~/.config/pkcs11/modules/
#     cnie.module naming the installed module by absolute path);
#  2. as root, with the installed module file unchanged among the system's
#     (bind mounts inside with-pcscd's private mount namespace).
#   p11kit.sh MODULE ec CMAKE BUILD      (under with-pcscd --virtual)
. "$(dirname "$0")/common.sh"
need p11-kit pkcs11-tool
cmake=${3:?usage: p11kit.sh MODULE CARD CMAKE BUILD}
build=${4:?usage: p11kit.sh MODULE CARD CMAKE BUILD}

prefix=$T/prefix
o=$("$cmake" --install "$build" --prefix "$prefix" 2>&1) || { echo "$o" | tail -n 20; fail "cmake --install"; finish; }
# The library directory is the build's CMAKE_INSTALL_LIBDIR
# (lib/x86_64-linux-gnu when configured for /usr, lib for /usr/local).
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")
inst=$prefix/${libdir:-lib}/pkcs11/cnie-pkcs11.so
modfile=$prefix/share/p11-kit/modules/cnie.module
[ -f "$inst" ] && ok "installed ${inst#"$prefix"/}" || { fail "not installed: ${inst#"$prefix"/} ($(cd "$prefix" && find . -name 'cnie-pkcs11*'))"; finish; }
[ -f "$modfile" ] && ok "installed ${modfile#"$prefix"/}" || { fail "not installed: ${modfile#"$prefix"/}"; finish; }
sed 's/^/  | /' "$modfile"
grep -Eq '^module:[ \t]*(cnie-pkcs11\.so|/.*/pkcs11/cnie-pkcs11\.so)[ \t]*$' "$modfile" &&
  ok "module file names cnie-pkcs11.so" || fail "module file has no 'module: cnie-pkcs11.so' line"
# Only C_* exported (Cryptoki's entry points).
extra=$(nm -D --defined-only "$inst" | awk '$2 ~ /[TDBRW]/ {print $3}' | grep -v '^C_' || true)
[ -z "$extra" ] && ok "installed module exports only C_* symbols" || fail "exported non-C_* symbols: $(echo $extra)"
# The installed module loads from the prefix as it is (no build-tree RPATH
# needed to find its libraries).
missing=$(ldd "$inst" 2>&1 | grep 'not found' || true)
if [ -n "$missing" ]; then
  fail "installed module misses libraries: $missing"
  LD_LIBRARY_PATH=$(dirname "$(find "$prefix" -name 'libcnie.so.[0-9]*' | head -n1)")
  export LD_LIBRARY_PATH
fi

# check_listing WHAT OUTPUT: our module's block in `p11-kit list-modules`
# output ("cnie: ..." up to the next module) shows the token, with the
# label the module gives (pkcs11-tool directly on it) and the card's serial.
want_label=$(client pkcs11-tool --module "$MODULE" -L 2>/dev/null | sed -n 's/^[ \t]*token label[ \t]*:[ \t]*//p' | head -n1)
check_listing() {
  local what=$1 out=$2 blk label serial
  blk=$(awk '/^[^ \t]/ {on = ($0 ~ /^cnie:/)} on' <<<"$out")
  if [ -z "$blk" ]; then echo "$out" | sed 's/^/  | /'; fail "$what: p11-kit does not list the cnie module"; return; fi
  echo "$blk" | sed 's/^/  | /'
  ok "$what: p11-kit lists $(head -n1 <<<"$blk")"
  label=$(sed -n 's/^[ \t]*token:[ \t]*//p' <<<"$blk" | head -n1)
  serial=$(sed -n 's/^[ \t]*serial-number:[ \t]*//p' <<<"$blk" | head -n1)
  [ -n "$label" ] && [ "$label" = "$want_label" ] && ok "$what: token: $label" ||
    fail "$what: token label '$label' (the module says '$want_label')"
  [ "${serial,,}" = "${CARD_SERIAL,,}" ] && ok "$what: serial-number: $serial" ||
    fail "$what: serial-number '$serial' (card: $CARD_SERIAL)"
}
# proxy_sees WHAT RUNAS...: p11-kit-proxy users see the token (GnuTLS's
# p11tool without --provider, pkcs11-tool on p11-kit-proxy.so).
proxy=$(pkg-config --variable=proxy_module p11-kit-1 2>/dev/null)
[ -n "$proxy" ] || proxy=/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so
proxy_sees() {
  local what=$1 o; shift
  # With the ASan runtime preloaded, p11tool hangs at exit in libp11-kit's
  # destructor (freelocale waits for the locale lock), with or without this
  # module configured: that check is left to the normal build.
  if [ -n "$P11C_PRELOAD" ]; then
    echo "NOTE: $what: p11tool check skipped with the sanitizer runtime preloaded"
  elif command -v p11tool >/dev/null 2>&1; then
    o=$("$@" p11tool --list-tokens 2>&1)
    grep -qi "serial=$CARD_SERIAL" <<<"$o" && ok "$what: p11tool (p11-kit) sees the token" ||
      { echo "$o" | sed 's/^/  | /'; fail "$what: p11tool via p11-kit does not see the token"; }
  fi
  if [ -f "$proxy" ]; then
    o=$("$@" pkcs11-tool --module "$proxy" -L 2>&1)
    grep -qi "serial num *: *$CARD_SERIAL" <<<"$o" && ok "$what: pkcs11-tool on p11-kit-proxy.so sees the token" ||
      { echo "$o" | sed 's/^/  | /'; fail "$what: p11-kit-proxy.so does not show the token"; }
  fi
}

# 1. A user configuration in a scratch HOME naming the installed module by
# absolute path.  p11-kit ignores user configuration in a program running
# as root, so as root this part runs as nobody (pcscd lets any user in).
uhome=$T/home
mkdir -p "$uhome/.config/pkcs11/modules" "$uhome/cache"
sed "s|^module:.*|module: $inst|" "$modfile" >"$uhome/.config/pkcs11/modules/cnie.module"
runas=(env HOME="$uhome" XDG_CACHE_HOME="$uhome/cache")
if [ "$(id -u)" = 0 ] && [ "$P11C_REAL_ROOT" = 0 ]; then
  echo "NOTE: root of a user namespace: p11-kit skips user configuration and nobody is not mapped: user-config part skipped"
elif [ "$(id -u)" = 0 ]; then
  chmod 755 "$T"
  chown -R 65534:65534 "$uhome"
  runas=(setpriv --reuid=65534 --regid=65534 --clear-groups "${runas[@]}")
fi
if [ "$(id -u)" != 0 ] || [ "$P11C_REAL_ROOT" = 1 ]; then
  o=$(client "${runas[@]}" p11-kit list-modules 2>&1); rc=$?
  [ "$rc" = 0 ] && ok "user config: p11-kit list-modules" || fail "user config: p11-kit list-modules exited $rc"
  check_listing "user config" "$o"
  proxy_sees "user config" client "${runas[@]}"
fi

# 2. As the distribution installs it: the installed module file unchanged
# (module: cnie-pkcs11.so, resolved in p11-kit's module directory) among
# the system's module files.  Root only, inside with-pcscd's private mount
# namespace (the bind mounts vanish with it).
if [ "$(id -u)" = 0 ] && [ -n "${CNIE_WITH_PCSCD_INNER:-}" ]; then
  sysconf=/usr/share/p11-kit/modules
  syslib=$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null)
  [ -n "$syslib" ] || syslib=/usr/lib/x86_64-linux-gnu/pkcs11
  if [ -d "$sysconf" ] && [ -d "$syslib" ]; then
    mkdir -p "$T/sys/conf" "$T/sys/lib"
    cp -a "$sysconf"/. "$T/sys/conf/"
    cp "$modfile" "$T/sys/conf/cnie.module"
    for f in "$syslib"/*; do [ -e "$f" ] && ln -s "$(realpath "$f")" "$T/sys/lib/${f##*/}"; done
    cp "$inst" "$T/sys/lib/cnie-pkcs11.so"
    if mount --bind "$T/sys/conf" "$sysconf" && mount --bind "$T/sys/lib" "$syslib"; then
      on_exit "umount '$syslib' 2>/dev/null; umount '$sysconf' 2>/dev/null"
      o=$(client p11-kit list-modules 2>&1); rc=$?
      [ "$rc" = 0 ] && ok "system dirs: p11-kit list-modules" || fail "system dirs: p11-kit list-modules exited $rc"
      check_listing "system dirs" "$o"
      proxy_sees "system dirs" client env HOME="$uhome"
    else
      echo "NOTE: cannot bind-mount over $sysconf / $syslib: system-directory part skipped"
    fi
  fi
fi
finish
