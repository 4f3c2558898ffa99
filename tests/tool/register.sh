#!/usr/bin/env bash
# cnie-tool register / unregister / bridge trust / doctor over every place
# a browser keeps an NSS database, in a scratch HOME whose profiles are made
# by certutil (as the browsers' first start does):
#   ~/.pki/nssdb (created by register), ~/.mozilla/firefox/P,
#   ~/.config/mozilla/firefox/P (Firefox ESR's XDG layout), a profile that
#   never ran (prefs.js only), the snap and the flatpak Firefox profiles.
# Checked from the databases themselves (modutil -list, certutil -L), not
# from the tool's own words; then --system on a policies file that holds
# other policies.
#
# usage: register.sh CNIE_TOOL MODULE   (under tests/harness/with-pcscd --virtual)
set -euo pipefail
tool=$1 module=$(realpath "$2")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME=$T/home XDG_STATE_HOME=$T/state
fail=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
jq_() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$2"; }
# shellcheck source=tests/harness/skip.sh
. "$(dirname "$0")/../harness/skip.sh"
command -v modutil >/dev/null && command -v certutil >/dev/null || cnie_skip "libnss3-tools missing"
# An ASan build of the module inside the uninstrumented modutil: the
# runtime first (as tests/integration/p11_install.sh does).
preload=$(ldd "$module" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ {printf "%s%s", sep, $3; sep=":"}')
if [ -n "$preload" ]; then
  export LD_PRELOAD=$preload ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi

ff=$HOME/.mozilla/firefox/a1b2.default-release
esr=$HOME/.config/mozilla/firefox/c3d4.default-esr
fresh=$HOME/.config/mozilla/firefox/e5f6.fresh
snap=$HOME/snap/firefox/common/.mozilla/firefox/g7h8.default
flat=$HOME/.var/app/org.mozilla.firefox/.mozilla/firefox/i9j0.default
mkdir -p "$ff" "$esr" "$fresh" "$snap" "$flat"
for d in "$ff" "$esr" "$snap" "$flat"; do certutil -N --empty-password -d "sql:$d"; done
echo 'user_pref("browser.startup.homepage_override.mstone", "ignore");' >"$fresh/prefs.js"
chromium=$HOME/.pki/nssdb
registered() { modutil -list -dbdir "sql:$1" 2>/dev/null | grep -q "library name: $module\$"; }
count_cnie() { modutil -list -dbdir "sql:$1" 2>/dev/null | grep -c 'library name: .*cnie-pkcs11\.so$' || true; }

# 1. register: every database the browsers load modules from, by absolute path.
"$tool" --json register --module "$module" >"$T/r1.json" && ok "register exits 0" || bad "register exit $?"
for d in "$chromium" "$ff" "$esr" "$fresh"; do
  registered "$d" && ok "registered in ${d#"$HOME"/}" || bad "not registered in ${d#"$HOME"/}"
done
for d in "$snap" "$flat"; do
  registered "$d" && bad "registered in sandboxed ${d#"$HOME"/}" || ok "not registered in sandboxed ${d#"$HOME"/}"
done
jq_ "d['changed'] == 4 and d['failed'] == 0 and d['module'] == '$module'" "$T/r1.json" &&
  ok "register reports 4 changed" || { cat "$T/r1.json"; bad "register report"; }
jq_ "sorted(x['result'] for x in d['databases']) == ['registered']*4 + ['skipped']*2 and
  all('cannot load' in x['detail'] for x in d['databases'] if x['result'] == 'skipped')" "$T/r1.json" &&
  ok "snap and flatpak reported as skipped, with the reason" || bad "skipped entries"
"$tool" register --module "$module" >"$T/r1.txt"
grep -q '^skipped .*snap/firefox.*own /usr' "$T/r1.txt" && ok "text output says why snap is skipped" || bad "text output"

# 2. Again: nothing changes.
"$tool" --json register --module "$module" >"$T/r2.json"
jq_ "d['changed'] == 0 and sum(x['result'] == 'unchanged' for x in d['databases']) == 4" "$T/r2.json" &&
  ok "second register changes nothing" || bad "second register"

# 3. An older path (another install) is replaced, not added beside.
mkdir -p "$T/old" && cp "$module" "$T/old/cnie-pkcs11.so"
"$tool" unregister >/dev/null
"$tool" register --module "$T/old/cnie-pkcs11.so" >/dev/null
"$tool" --json register --module "$module" >"$T/r3.json"
[ "$(count_cnie "$esr")" = 1 ] && registered "$esr" && ok "old module path replaced" ||
  bad "old path: $(count_cnie "$esr") entries"

# 4. bridge trust: the same places, sandboxed browsers included (trust is data).
mkdir -p "$XDG_STATE_HOME/cnied"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
  -subj "/CN=cnied test CA" -days 2 -out "$XDG_STATE_HOME/cnied/ca.pem" 2>/dev/null
"$tool" bridge trust >"$T/t.txt" && ok "bridge trust exits 0" || { cat "$T/t.txt"; bad "bridge trust"; }
for d in "$chromium" "$ff" "$esr" "$fresh" "$snap" "$flat"; do
  if certutil -L -d "sql:$d" -n "CNIE local bridge CA" -a 2>/dev/null | openssl x509 -noout -fingerprint 2>/dev/null |
     grep -q "$(openssl x509 -in "$XDG_STATE_HOME/cnied/ca.pem" -noout -fingerprint)"; then
    ok "bridge CA trusted in ${d#"$HOME"/}"
  else
    bad "bridge CA not in ${d#"$HOME"/}"
  fi
done

# 5. doctor: one pkcs11-nss check per profile, fixes that are commands.
"$tool" --json doctor --no-bridge >"$T/d.json" || true
jq_ "sum(c['id'] == 'pkcs11-nss' and c['status'] == 'OK' for c in d['checks']) == 4 and
  sum(c['id'] == 'pkcs11-nss' and c['status'] == 'WARN' and c['fix'] == 'sudo apt-get install firefox-esr'
      for c in d['checks']) == 2" "$T/d.json" &&
  ok "doctor: 4 profiles load the module, 2 sandboxed ones warned" ||
  { python3 -c "import json,sys; [print(c) for c in json.load(open(sys.argv[1]))['checks'] if c['id'].startswith('pkcs11')]" "$T/d.json"; bad "doctor per profile"; }

# 6. unregister: gone everywhere, reported.
"$tool" --json unregister >"$T/u.json" && ok "unregister exits 0" || bad "unregister"
for d in "$chromium" "$ff" "$esr" "$fresh"; do
  [ "$(count_cnie "$d")" = 0 ] && ok "removed from ${d#"$HOME"/}" || bad "still in ${d#"$HOME"/}"
done
jq_ "d['changed'] == 4" "$T/u.json" && ok "unregister reports 4 changed" || bad "unregister report"
"$tool" --json doctor --no-bridge >"$T/d2.json" || true
jq_ "sum(c['id'] == 'pkcs11-nss' and c['status'] == 'WARN' and c['fix'] == 'cnie-tool register'
      for c in d['checks']) == 4" "$T/d2.json" && ok "doctor: fix 'cnie-tool register' per profile" ||
  bad "doctor after unregister"

# 7. --system: the Firefox policy, merged with the policies already there.
pol=$T/etc/firefox/policies/policies.json
mkdir -p "$(dirname "$pol")"
echo '{"policies": {"DisableTelemetry": true, "SecurityDevices": {"Add": {"Other": "/opt/other.so"}}}}' >"$pol"
"$tool" register --system --policies "$pol" --module "$module" >/dev/null && ok "register --system exits 0" || bad "register --system"
jq_ "d['policies']['DisableTelemetry'] is True and d['policies']['SecurityDevices']['Add'] ==
  {'Other': '/opt/other.so', 'CNIE': '$module'}" "$pol" && ok "policy SecurityDevices.Add.CNIE added, others kept" ||
  { cat "$pol"; bad "policies after register --system"; }
"$tool" unregister --system --policies "$pol" >/dev/null
jq_ "d['policies']['SecurityDevices']['Add'] == {'Other': '/opt/other.so'}" "$pol" &&
  ok "unregister --system removes only CNIE" || { cat "$pol"; bad "policies after unregister --system"; }
rm -f "$pol"
"$tool" register --system --policies "$pol" --module "$module" >/dev/null
jq_ "d == {'policies': {'SecurityDevices': {'CNIE': '$module'}}}" "$pol" && ok "new policies file" || bad "new policies file"
echo '{"policies": [' >"$pol"
"$tool" register --system --policies "$pol" --module "$module" 2>"$T/e" && bad "broken policies file accepted" ||
  { grep -q 'not valid JSON' "$T/e" && ok "a broken policies file is refused, not overwritten" || bad "message: $(cat "$T/e")"; }
[ "$(cat "$pol")" = '{"policies": [' ] || bad "broken policies file was changed"
"$tool" register --module "$T/none/cnie-pkcs11.so" 2>"$T/e" && bad "missing module accepted" ||
  { grep -q 'give --module' "$T/e" && ok "a missing module is refused with a fix" || bad "message: $(cat "$T/e")"; }
exit "$fail"
