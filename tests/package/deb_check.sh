#!/usr/bin/env bash
# The Debian packages as a Debian 12 user gets them: `scripts/package`
# builds them (lintian: no error), then they are installed with dpkg into a
# clean Debian 12 root (debootstrap --variant=minbase plus the packages
# they depend on) and used there, in a private mount and PID namespace:
#   cnie-tool --version; p11-kit list-modules shows the cnie module;
#   the user socket enabled by the preset (never started), the kiosk unit
#   not enabled; cnie-tool doctor through a private pcscd with the virtual
#   reader of cnie-testing and a card written by its cnie-perso;
#   removal leaves no enabled unit behind.
# The root is cached as a tarball under BUILD/package/ (keyed on the list
# of packages it holds): debootstrap runs once per build directory, every
# run unpacks a fresh copy.
#
# usage: deb_check.sh BUILD_DIR SOURCE_DIR
# Without root or the tools, or when the machine's Debian mirror is
# unreachable and no root is cached, the test is skipped — and fails under
# CI=true (tests/harness/skip.sh).
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
# shellcheck source=tests/harness/skip.sh
. "$src/tests/harness/skip.sh"
# The mirror this machine's apt already uses (deb822 sources or the one-line
# list), unless CNIE_DEBIAN_MIRROR names one: nothing is hard-coded.
apt_mirror() {
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}'
  } | grep -v -- '-security' | head -n 1 || true
}
mirror=${CNIE_DEBIAN_MIRROR:-$(apt_mirror)}
skip() { cnie_skip "$@"; }
fail=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
PATH=$PATH:/usr/sbin:/sbin

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot)"
for t in debootstrap dpkg-buildpackage lintian unshare; do
  command -v "$t" >/dev/null || skip "$t not installed (scripts/deps.d/package.sh)"
done

work=$build/package
debs=$work/debs
mkdir -p "$work/cache"
T=$(mktemp -d "$work/run.XXXXXX")
trap 'rm -rf "$T"' EXIT

# 1. Build.
t0=$SECONDS
if "$src/scripts/package" "$debs" >"$T/package.log" 2>&1; then
  ok "scripts/package: $(cd "$debs" && ls *.deb | grep -vc dbgsym) packages in $((SECONDS - t0)) s"
else
  tail -n 40 "$T/package.log"; bad "scripts/package"; exit 1
fi
grep -E '^(E|W):' "$debs/lintian.txt" | sed 's/^/  lintian | /' || true
[ "$(grep -c '^E:' "$debs/lintian.txt" || true)" = 0 ] && ok "lintian: no error" || bad "lintian errors"
mapfile -t pkgs < <(cd "$debs" && ls *.deb | grep -v -- -dbgsym_)
for p in libcnie1 libcnie-dev cnie-pkcs11 cnied cnie-tool cnie-testing cnie-l10n; do
  printf '%s\n' "${pkgs[@]}" | grep -q "^${p}_" && ok "built $p" || bad "no package $p"
done

# No path of the package build (scripts/package's work directory) in an
# installed program, outside debug information (the -dbgsym packages).
mkdir -p "$T/x"
for d in "${pkgs[@]}"; do dpkg-deb -x "$debs/$d" "$T/x"; done
hits=""
while IFS= read -r -d '' f; do
  head -c4 "$f" | grep -q ELF || continue
  strings -a "$f" | grep -q 'cnie-package\.' && hits+=" ${f#"$T/x"}"
done < <(find "$T/x" -type f -print0)
[ -z "$hits" ] && ok "no build-tree path in the packaged programs" ||
  { first=${hits# }; bad "build-tree path in:$hits ($(strings -a "$T/x${first%% *}" | grep 'cnie-package\.' | head -n2 | tr '\n' ' '))"; }
rm -rf "$T/x"

# 2. The root: minbase + what the packages depend on (first alternative)
# + the tools the check runs.
ours="libcnie1 libcnie-dev cnie-pkcs11 cnied cnie-tool cnie-testing cnie-l10n"
deps=$(for d in "${pkgs[@]}"; do dpkg-deb -f "$debs/$d" Depends; echo ,; done |
  tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep -v '^$' |
  grep -vxF -f <(tr ' ' '\n' <<<"$ours") | sort -u | tr '\n' ',')
deps="${deps}pcscd,p11-kit,p11-kit-modules,systemd,libnss3-tools"
key=$(printf '%s' "$deps" | sha256sum | cut -c1-16)
tarball=$work/cache/bookworm-minbase-$key.tar
if [ ! -f "$tarball" ]; then
  rm -f "$work"/cache/bookworm-minbase-*.tar
  t0=$SECONDS
  if ! debootstrap --variant=minbase --include="$deps" bookworm "$T/boot" "$mirror" >"$T/debootstrap.log" 2>&1; then
    tail -n 20 "$T/debootstrap.log"
    grep -qiE 'Failed getting release file|Could not resolve|unable to connect|Temporary failure' "$T/debootstrap.log" &&
      skip "Debian mirror $mirror unreachable and no cached root"
    bad "debootstrap"; exit 1
  fi
  chroot "$T/boot" apt-get clean
  tar -C "$T/boot" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$T/boot"
  ok "debootstrap of a Debian 12 root in $((SECONDS - t0)) s (cached: ${tarball#"$build"/})"
else
  ok "Debian 12 root from the cache (${tarball#"$build"/})"
fi
root=$T/root
mkdir "$root"
tar -C "$root" -xf "$tarball"
mkdir -p "$root/tmp/debs"
for d in "${pkgs[@]}"; do cp "$debs/$d" "$root/tmp/debs/"; done
cp "$src/tests/harness/setup-virtual-readers" "$root/tmp/"

# 3. Inside the root.
cat >"$root/tmp/check.sh" <<'EOF'
#!/bin/bash
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8
fail=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
if out=$(dpkg -i /tmp/debs/*.deb 2>&1); then ok "dpkg -i: $(ls /tmp/debs | sed 's/_.*//' | tr '\n' ' ')"
else echo "$out" | tail -n 20; bad "dpkg -i"; exit 1; fi
dpkg --audit >/tmp/audit 2>&1 && [ ! -s /tmp/audit ] && ok "dpkg --audit clean" || { cat /tmp/audit; bad "dpkg --audit"; }

for l in ar fr; do
  [ "$(dpkg -S /usr/share/locale/$l/LC_MESSAGES/cnie.mo 2>/dev/null | cut -d: -f1)" = cnie-l10n ] &&
    ok "catalogue $l from cnie-l10n" || bad "no $l catalogue from cnie-l10n"
done
v=$(cnie-tool --version 2>&1) && ok "cnie-tool --version: $v" || bad "cnie-tool --version: $v"
v=$(cnied --version 2>&1) && ok "cnied --version: $v" || bad "cnied --version: $v"
out=$(p11-kit list-modules 2>&1)
blk=$(awk '/^[^ \t]/ {on = ($0 ~ /^cnie:/)} on' <<<"$out")
[ -n "$blk" ] && ok "p11-kit list-modules: $(head -n1 <<<"$blk")" || { echo "$out"; bad "p11-kit does not list cnie"; }

# Units: the user socket enabled for all users by the preset, not the kiosk.
[ -L /etc/systemd/user/sockets.target.wants/cnied.socket ] && ok "cnied.socket enabled globally (preset)" ||
  bad "cnied.socket not enabled by the preset"
[ -e /etc/systemd/system/multi-user.target.wants/cnied-kiosk.service ] && bad "kiosk unit enabled" ||
  ok "cnied-kiosk.service shipped disabled"
getent group cnie-kiosk >/dev/null && ok "group cnie-kiosk exists (udev rules)" || bad "no group cnie-kiosk"

# A test card and the virtual readers of cnie-testing under a private pcscd.
mkdir -p /tmp/fake/cards
cnie-perso --desc /usr/share/cnie-testing/cards/ec.json --out /tmp/fake/cards/ec >/tmp/perso.log 2>&1 &&
  ok "cnie-perso wrote a test card" || { cat /tmp/perso.log; bad "cnie-perso"; }
lib=$(ls /usr/lib/*/cnie/libifd-cnie-sim.so)
CNIE_IFD_LIB=$lib CNIE_VIRTUAL_CARDS="ec - -" bash /tmp/setup-virtual-readers /tmp/fake /tmp/readers /tmp/vstate &&
  ok "virtual readers configured with $lib" || bad "setup-virtual-readers"
mkdir -p /run/pcscd
pcscd -f -c /tmp/readers >/tmp/pcscd.log 2>&1 &
pid=$!
for _ in $(seq 50); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.2; done
out=$(cnie-tool doctor 2>&1); rc=$?
echo "$out" | sed 's/^/  doctor | /'
grep -q '^\[OK  \] CNIE recognised' <<<"$out" && ok "doctor: card recognised through pcscd" || bad "doctor: no card"
grep -q '^\[OK  \].*p11-kit' <<<"$out" && ok "doctor: module registered with p11-kit" || bad "doctor: p11-kit registration"
grep -Eq '^[0-9]+ OK, [0-9]+ WARN, 0 FAIL' <<<"$out" && ok "doctor: no FAIL (exit $rc)" || bad "doctor: failures (exit $rc)"
out=$(cnie-sim --base /tmp/vstate --reader 0 status 2>&1) && ok "cnie-sim status: $out" || bad "cnie-sim: $out"
# A user's Firefox ESR profile: `cnie-tool register` finds the packaged
# module by itself; the profile's database then loads it and sees the token.
prof=/home/u/.config/mozilla/firefox/ab12.default-esr
mkdir -p "$prof" && certutil -N --empty-password -d "sql:$prof"
out=$(HOME=/home/u cnie-tool register 2>&1) && ok "cnie-tool register: $(head -n1 <<<"$out")" || bad "register: $out"
out=$(modutil -list -dbdir "sql:$prof" 2>&1)
grep -q 'library name: /usr/lib/.*/pkcs11/cnie-pkcs11.so$' <<<"$out" && grep -q 'token: CNIE' <<<"$out" &&
  ok "the profile loads the packaged module and sees the token" || { echo "$out"; bad "profile after register"; }
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null

if out=$(dpkg --purge cnie-testing cnie-tool cnied cnie-pkcs11 libcnie-dev libcnie1 cnie-l10n 2>&1); then ok "dpkg --purge"
else echo "$out" | tail -n 10; bad "dpkg --purge"; fi
[ -e /etc/systemd/user/sockets.target.wants/cnied.socket ] && bad "cnied.socket still enabled after purge" ||
  ok "nothing enabled after purge"
left=$(dpkg -S cnie 2>/dev/null | grep -v '^diversion' || true)
[ -z "$left" ] && ok "no file of ours left in dpkg's database" || bad "left: $left"
exit $fail
EOF
chmod +x "$root/tmp/check.sh"
t0=$SECONDS
set +e
unshare --mount --pid --fork --kill-child bash -c '
  set -e
  mount -t proc proc "$1/proc"
  mount --bind /dev "$1/dev"
  mount -t tmpfs tmpfs "$1/run"
  exec chroot "$1" /tmp/check.sh' sh "$root"
rc=$?
set -e
[ "$rc" = 0 ] && ok "checks in the Debian 12 root ($((SECONDS - t0)) s)" || bad "checks in the Debian 12 root (exit $rc)"
exit "$fail"
