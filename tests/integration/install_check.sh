#!/usr/bin/env bash
# `cmake --install` as a user or a packager runs it, checked from outside:
#  1. a scratch prefix (--prefix P): the programs start without
#     LD_LIBRARY_PATH (RUNPATH), libcnie exports only cnie_*, a program
#     builds against libcnie with `pkg-config --cflags --libs libcnie` and
#     with find_package(cnie), and runs; the p11-kit module file names the
#     module by absolute path;
#  2. /usr/local through DESTDIR: p11-kit and udev files where p11-kit and
#     udev read them (/etc/...), units naming /usr/local/bin/cnied;
#  3. /usr through DESTDIR: the directories pkg-config gives, and the
#     units pass `systemd-analyze verify`.
# Every install: no test tool (cnie-sim, cnie-perso, the virtual reader
# driver, the reference-card library: the `testing` component) and no
# path of the build or source tree in an installed program.
#
# usage: install_check.sh CMAKE BUILD_DIR SOURCE_DIR
set -euo pipefail
cmake=$1 build=$(cd "$2" && pwd) src=$(cd "$3" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
unset LD_LIBRARY_PATH
# An ASan build's programs need the runtime first; it must not hide a
# missing RUNPATH, so only the sanitizer runtimes are preloaded.
asan=$(ldd "$build/tools/cnie-tool/cnie-tool" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ {printf "%s%s", s, $3; s=":"}')
if [ -n "$asan" ]; then export ASAN_OPTIONS=detect_leaks=0; fi

install_to() { # DESTDIR PREFIX
  local out
  if ! out=$(DESTDIR=$1 "$cmake" --install "$build" --prefix "$2" 2>&1); then
    echo "$out" | tail -n 20; bad "cmake --install --prefix $2 ${1:+(DESTDIR)}"; return 1
  fi
}

# common_checks DESTDIR PREFIX: what every install must satisfy.
common_checks() {
  local root=${1:-$2} prefix=$2 p=$1$2 f tool lib stripped hits
  tool=$p/bin/cnie-tool
  [ -x "$tool" ] && ok "$prefix: bin/cnie-tool" || bad "$prefix: no bin/cnie-tool"
  [ -x "$p/bin/cnied" ] && ok "$prefix: bin/cnied" || bad "$prefix: no bin/cnied"
  lib=$(find "$p" -name 'libcnie.so.[0-9]*' -type f | head -n1)
  [ -n "$lib" ] && ok "$prefix: ${lib#"$p"/}" || bad "$prefix: no libcnie.so.N"
  [ -f "$p/include/cnie/error.h" ] && ok "$prefix: include/cnie/error.h" || bad "$prefix: no include/cnie/error.h"
  # The default install leaves the testing component out.
  hits=$(cd "$root" && find . \( -name cnie-sim -o -name cnie-perso -o -name 'libifd-cnie-sim*' \
    -o -name 'libcnie-refcard*' -o -name 'cnie-sim.1*' -o -name 'cnie-perso.1*' \) -print)
  [ -z "$hits" ] && ok "$prefix: no test tool installed" || bad "$prefix: test tools installed: $(echo $hits)"
  # No build- or source-tree path in an installed ELF file outside its
  # debug information (RUNPATH included: CMake rewrites it on install).
  # A sanitizer build embeds source paths in its instrumentation and is
  # never installed: the normal build checks this.
  hits=""
  [ -n "$asan" ] && echo "note - sanitizer build: build-tree path check left to the normal build"
  while [ -z "$asan" ] && IFS= read -r -d '' f; do
    head -c4 "$f" | grep -q 'ELF' || continue
    stripped=$T/stripped
    objcopy --strip-debug "$f" "$stripped" 2>/dev/null || cp "$f" "$stripped"
    if strings -a "$stripped" | grep -Fq -e "$build" -e "$src"; then
      hits+=" ${f#"$root"} ($(strings -a "$stripped" | grep -F -e "$build" -e "$src" | head -n2 | tr '\n' ' '))"
    fi
  done < <(find "$root" -type f -print0)
  [ -z "$hits" ] && ok "$prefix: no build-tree path in installed programs" ||
    bad "$prefix: build/source tree path in:$hits"
  # Unit files name the installed daemon.
  for f in $(find "$root" -name 'cnied*.service'); do
    if grep -q "^ExecStart=$prefix/bin/cnied " "$f"; then ok "$prefix: ${f#"$root"} runs $prefix/bin/cnied"
    else bad "$prefix: ${f#"$root"}: $(grep '^ExecStart' "$f")"; fi
  done
}

# 1. Scratch prefix.
P=$T/prefix
if install_to "" "$P"; then
  common_checks "" "$P"
fi
run() { env ${asan:+LD_PRELOAD=$asan} "$@"; }
if [ -x "$P/bin/cnie-tool" ]; then
  v=$(run "$P/bin/cnie-tool" --version 2>&1) && ok "cnie-tool --version without LD_LIBRARY_PATH: $v" ||
    bad "installed cnie-tool does not start: $v"
  v=$(run "$P/bin/cnied" --version 2>&1) && ok "cnied --version without LD_LIBRARY_PATH: $v" ||
    bad "installed cnied does not start: $v"
  readelf -d "$P/bin/cnie-tool" | grep -q 'RUNPATH.*\$ORIGIN/\.\./lib' && ok "cnie-tool RUNPATH \$ORIGIN/../lib" ||
    bad "cnie-tool RUNPATH: $(readelf -d "$P/bin/cnie-tool" | grep -E 'R(UN)?PATH' || echo none)"
fi
lib=$(find "$P" -name 'libcnie.so.[0-9]*' -type f | head -n1)
if [ -n "$lib" ]; then
  extra=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^cnie_' || true)
  [ -z "$extra" ] && ok "libcnie exports only cnie_*" || bad "libcnie exports non-API symbols: $(echo $extra)"
  n=$(nm -D --defined-only "$lib" | grep -c ' cnie_' || true)
  [ "$n" -gt 20 ] && ok "libcnie exports $n cnie_* functions" || bad "libcnie exports $n cnie_* functions"
fi
mod=$(find "$P" -name cnie.module | head -n1)
if [ -n "$mod" ] && line=$(grep '^module:' "$mod") && f=${line#module: } && [ -f "$f" ] && [ "${f#"$P"/}" != "$f" ]; then
  ok "p11-kit module file ${mod#"$P"/}: $line"
else
  bad "p11-kit module file: ${mod:-none} (${line:-no module line})"
fi
# A program against the installed library: pkg-config, then CMake.
cat >"$T/use.c" <<'EOF'
#include <cnie/error.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
	const char *s = cnie_strerror(CNIE_ERR_NO_CARD);
	if (s == NULL || strlen(s) == 0)
		return 1;
	printf("%s\n", s);
	return 0;
}
EOF
pcdir=$(dirname "$(find "$P" -name libcnie.pc | head -n1)")
if [ "$pcdir" != . ] && flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs libcnie); then
  libdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir libcnie)
  # shellcheck disable=SC2086
  if cc -o "$T/use" "$T/use.c" $flags -Wl,-rpath,"$libdir" && o=$(run "$T/use"); then
    ok "pkg-config --cflags --libs libcnie ($flags): built, runs: $o"
  else bad "program built with pkg-config libcnie"; fi
else
  bad "no usable libcnie.pc"
fi
mkdir -p "$T/cm"
cp "$T/use.c" "$T/cm/use.c"
cat >"$T/cm/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(use C)
find_package(cnie 0.1 REQUIRED)
add_executable(use use.c)
target_link_libraries(use PRIVATE cnie::cnie)
EOF
if o=$("$cmake" -S "$T/cm" -B "$T/cm/b" -DCMAKE_PREFIX_PATH="$P" 2>&1 && "$cmake" --build "$T/cm/b" 2>&1) &&
   o=$(run "$T/cm/b/use"); then
  ok "find_package(cnie) + cnie::cnie: built, runs: $o"
else
  echo "$o" | tail -n 15; bad "program built with find_package(cnie)"
fi

# The installed cnie-tool finds the installed module by itself, and the
# doctor's fix for a browser profile, pasted as printed, registers it.
if [ -x "$P/bin/cnie-tool" ] && command -v certutil >/dev/null && command -v modutil >/dev/null; then
  fh=$T/fakehome/.config/mozilla/firefox/x1.default-esr
  mkdir -p "$fh" && certutil -N --empty-password -d "sql:$fh"
  dj() { HOME=$T/fakehome PATH=$P/bin:$PATH CNIE_DOCTOR_NO_DEFAULT_PORT=1 run "$P/bin/cnie-tool" --json doctor --no-bridge 2>/dev/null || true; }
  fix=$(dj | python3 -c 'import json,sys; print(next(c["fix"] for c in json.load(sys.stdin)["checks"] if c["id"]=="pkcs11-nss"))' 2>/dev/null || true)
  if [ "$fix" = "cnie-tool register" ] && (cd "$T" && HOME=$T/fakehome PATH=$P/bin:$PATH run bash -c "$fix" >/dev/null); then
    if dj | python3 -c 'import json,sys; sys.exit(0 if any(c["id"]=="pkcs11-nss" and c["status"]=="OK" for c in json.load(sys.stdin)["checks"]) else 1)' &&
       grep -q "^library=$P/lib.*/pkcs11/cnie-pkcs11.so\$" "$fh/pkcs11.txt"; then
      ok "doctor's fix pasted as printed ($fix) registers the installed module; doctor then says OK"
    else bad "after '$fix', the profile does not load the installed module"; fi
  else
    bad "doctor's fix for an unregistered profile: '${fix:-none}'"
  fi
fi

# 2. /usr/local, as `sudo cmake --install build` does with the default prefix.
D=$T/local
if install_to "$D" /usr/local; then
  common_checks "$D" /usr/local
  f=$D/etc/pkcs11/modules/cnie.module
  [ -f "$f" ] && grep -q '^module: /usr/local/lib.*/pkcs11/cnie-pkcs11.so$' "$f" &&
    [ -f "$D$(sed -n 's/^module: //p' "$f")" ] && ok "/usr/local: /etc/pkcs11/modules/cnie.module: $(grep '^module' "$f")" ||
    bad "/usr/local: p11-kit module file ($(cd "$D" && find . -name cnie.module))"
  [ -f "$D/etc/udev/rules.d/70-cnie-readers.rules" ] && ok "/usr/local: udev rules in /etc/udev/rules.d" ||
    bad "/usr/local: udev rules at $(cd "$D" && find . -name '70-cnie*')"
  [ -f "$D/usr/local/lib/systemd/user/cnied.socket" ] && ok "/usr/local: user units in /usr/local/lib/systemd/user" ||
    bad "/usr/local: user units at $(cd "$D" && find . -name 'cnied.socket')"
  v=$(run "$D/usr/local/bin/cnie-tool" --version 2>&1) && ok "/usr/local: cnie-tool starts without LD_LIBRARY_PATH" ||
    bad "/usr/local: cnie-tool does not start: $v"
fi

# 3. /usr, as a distribution package does.
U=$T/usr
if install_to "$U" /usr; then
  common_checks "$U" /usr
  d=$(pkg-config --variable=p11_module_configs p11-kit-1)
  f=$U$d/cnie.module
  if [ -f "$f" ]; then
    m=$(sed -n 's/^module: //p' "$f")
    case $m in /*) mp=$U$m ;; *) mp=$U$(pkg-config --variable=p11_module_path p11-kit-1)/$m ;; esac
    [ -f "$mp" ] && ok "/usr: $d/cnie.module -> ${mp#"$U"}" || bad "/usr: module file names $m, not installed"
  else
    bad "/usr: no $d/cnie.module ($(cd "$U" && find . -name cnie.module))"
  fi
  r=$(pkg-config --variable=udevdir udev 2>/dev/null || true)
  r=${r:-$(dirname "$(dirname "$(pkg-config --variable=systemdsystemunitdir systemd)")")/udev}
  [ -f "$U$r/rules.d/70-cnie-readers.rules" ] && ok "/usr: udev rules in $r/rules.d" ||
    bad "/usr: udev rules at $(cd "$U" && find . -name '70-cnie*')"
  uu=$(pkg-config --variable=systemduserunitdir systemd)
  su=$(pkg-config --variable=systemdsystemunitdir systemd)
  for f in "$uu/cnied.socket" "$uu/cnied.service" "$su/cnied-kiosk.service"; do
    [ -f "$U$f" ] || { bad "/usr: no $f"; continue; }
    # Documentation=man:cnied(8) is looked up by man(1), in the DESTDIR.
    if o=$(MANPATH=$U/usr/share/man systemd-analyze verify --root="$U" "$U$f" 2>&1 | grep -v -e 'is added as a dependency to a non-existent unit' \
        -e 'Cannot add dependency job' -e 'not found' -e '^$' || true) && [ -z "$o" ]; then
      ok "/usr: systemd-analyze verify $f"
    else
      echo "$o" | sed 's/^/  | /'; bad "/usr: systemd-analyze verify $f"
    fi
  done
fi
exit "$fail"
