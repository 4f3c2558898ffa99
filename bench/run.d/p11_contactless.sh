# shellcheck shell=bash disable=SC2154  # $here, $build: set by bench/run
# PKCS#11 over contactless (pkcs11/README.md "Contactless"): warm PIN + sign
# through cnie-pkcs11.so with the card on the virtual contactless reader,
# against its floor, with the emulator's timing model on (5 ms per APDU,
# ISO 14443 at 106 kbit/s, EC 80 ms, RSA 150 ms, PACE 40 ms per GENERAL
# AUTHENTICATE step: bench_card.c's figures).
#   warm   a second process with the same XDG_CACHE_HOME, bench_pkcs11's
#          flow (C_Login: CAN dialog through the scripted pinentry, PACE,
#          VERIFY; C_Sign), the card APDUs from the reader's counter
#   floor  PACE's steps (MSE:SET AT, four GENERAL AUTHENTICATE) plus the
#          contact flow's warm APDUs (SELECT, GET DATA, VERIFY, MSE:SET,
#          PSO/INTERNAL AUTHENTICATE), all under secure messaging: their
#          time under the same model, from the sizes of the very APDUs the
#          warm run sent (pcscd's APDU log), plus the PACE steps' and the
#          key operation's charges
# and the ratio of the two (time and APDUs), with the scripted dialog's own
# time shown apart (a person takes seconds).  The contact figure of the
# same flow is printed beside it (bench/run.d/pkcs11.sh has the details).
# Sourced by bench/run; runs itself again under with-pcscd.
if [ "${CNIE_BENCH_P11CL_INNER:-}" != 1 ]; then
  echo "== bench: PKCS#11 over contactless, warm PIN + sign vs its floor (timing model on)"
  if [ ! -f "$build/pkcs11/cnie-pkcs11.so" ] || [ ! -x "$build/bench/bench_pkcs11" ]; then
    echo "  cnie-pkcs11.so or bench_pkcs11 not built: skipped"
  else
    CNIE_BENCH_P11CL_INNER=1 CNIE_EMU_TIMING=${CNIE_EMU_TIMING_CL:-5000,106000,150000,80000,40000} \
      CNIE_BENCH_BUILD=$build CNIE_BENCH_HERE=$here \
      "$here/tests/harness/with-pcscd" --virtual --hide-usb --apdu-log -- \
      bash "$here/bench/run.d/p11_contactless.sh" || echo "  (contactless PKCS#11 bench failed: exit $?)"
  fi
else
  set -u
  build=$CNIE_BENCH_BUILD
  here=$CNIE_BENCH_HERE
  sim=$build/drivers/ifd/cnie-sim
  mod=$build/pkcs11/cnie-pkcs11.so
  bench=$build/bench/bench_pkcs11
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-p11cl.XXXXXX")
  trap 'rm -rf -- "$tmp"' EXIT
  export HOME=$tmp/home CNIE_PINENTRY=$here/tests/harness/pinentry-script
  mkdir -p "$HOME"
  IFS=, read -r lat bps rsa_us ec_us pace_us <<<"$CNIE_EMU_TIMING"
  echo "  timing model: CNIE_EMU_TIMING=$CNIE_EMU_TIMING (latency_us,bit/s,rsa_us,ec_us,pace_us)"
  "$sim" --reader 2 remove >/dev/null
  # The scripted dialog alone: spawn, Assuan exchange, answer.
  dlg=$(python3 - "$CNIE_PINENTRY" <<'EOF'
import subprocess, sys, time
t = time.monotonic()
for _ in range(5):
    subprocess.run([sys.argv[1]], input=b"SETDESC CAN\nGETPIN\nBYE\n",
                   stdout=subprocess.DEVNULL, env={"PINENTRY_SCRIPT_CAN": "1", "PATH": "/usr/bin:/bin"})
print("%.1f" % ((time.monotonic() - t) * 1000 / 5))
EOF
)
  rc=0
  for card in ec rsa; do
    cp -a -- "$build/cards/$card" "$tmp/$card"
    PINENTRY_SCRIPT_CAN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secrets"]["can"])' "$tmp/$card/card.json")
    export PINENTRY_SCRIPT_CAN XDG_CACHE_HOME=$tmp/cache-$card
    # Contact, warm, for the comparison.
    "$sim" --reader 1 remove >/dev/null 2>&1 || true
    "$sim" --reader 0 remove >/dev/null 2>&1 || true
    "$sim" --reader 0 insert "$tmp/$card" >/dev/null
    BENCH_APDU_CMD="$sim --reader 0 status" "$bench" "$mod" auth >/dev/null 2>&1 || rc=1
    ct=$(for _ in 1 2 3; do BENCH_APDU_CMD="$sim --reader 0 status" "$bench" "$mod" auth 2>/dev/null |
      grep ' total '; done | sort -k2 -n | sed -n 2p) || rc=1
    # Contactless: cold, then warm (a second process).
    "$sim" --reader 0 remove >/dev/null 2>&1 || true
    "$sim" --reader 1 insert "$tmp/$card" >/dev/null
    export BENCH_APDU_CMD="$sim --reader 1 status"
    "$bench" "$mod" auth >"$tmp/cold" 2>&1 || { cat "$tmp/cold"; rc=1; }
    # Warm: $runs processes (the machine may be busy: the median counts).
    runs=${CNIE_BENCH_RUNS:-5}
    : >"$tmp/times"
    for _ in $(seq "$runs"); do
      sleep 0.3 # pcscd's log is written by another process
      n0=$(grep -c -E 'APDU: |SW: ' "$CNIE_PCSCD_LOG")
      "$bench" "$mod" auth >"$tmp/warm" 2>&1 || { cat "$tmp/warm"; rc=1; }
      grep 'PIN + sign' "$tmp/warm" | sed -n 's/.*sign *\([0-9.]*\) ms.*/\1/p' >>"$tmp/times"
    done
    sleep 0.3
    echo "  -- $card card, contactless, warm cache (second process), the last of $runs runs: bench_pkcs11"
    sed 's/^/   /' "$tmp/warm"
    grep -E 'APDU: |SW: ' "$CNIE_PCSCD_LOG" | tail -n +"$((n0 + 1))" >"$tmp/apdus"
    med=$(sort -n "$tmp/times" | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}')
    echo "     warm PIN + sign over $runs runs: $(sort -n "$tmp/times" | tr '\n' ' ')ms; median $med ms"
    warm="PIN + sign $med ms $(grep 'PIN + sign' "$tmp/warm" | sed -n 's/.* \([0-9]*\) APDUs.*/\1/p') APDUs"
    python3 - "$tmp/apdus" "$lat" "$bps" "$pace_us" "$([ "$card" = ec ] && echo "$ec_us" || echo "$rsa_us")" \
      "$warm" "$dlg" "$ct" <<'EOF'
import re, sys
path, lat, bps, pace_us, key_us, warm, dlg, ct = sys.argv[1:9]
lat, bps, pace_us, key_us, dlg = int(lat), int(bps), int(pace_us), int(key_us), float(dlg)
lines = [l.split(": ", 1) for l in open(path) if ": " in l]
pairs, cmd = [], None
for kind, rest in lines:
    n = len(rest.split())
    if kind.endswith("APDU"):
        cmd = (rest.strip(), n)
    elif cmd is not None:
        pairs.append((cmd[0], cmd[1], n))
        cmd = None
def cost(c, r):
    return lat + (c + r) * 8 * 1e6 / bps
pace = [p for p in pairs if p[0][:5] in ("00 22", "10 86", "00 86")]
sm = [p for p in pairs if p[0].startswith("0C")]
extra = [p for p in pairs if p not in pace and p not in sm]
floor_us = sum(cost(c, r) for _, c, r in pace + sm) + 4 * pace_us + key_us
m = re.search(r"([0-9.]+) ms +([0-9]+) APDUs", warm)
ms, napdu = float(m.group(1)), int(m.group(2))
print("  -- floor: %d PACE steps + %d commands under secure messaging = %d APDUs, %.1f ms"
      % (len(pace), len(sm), len(pace) + len(sm), floor_us / 1000))
print("     (not in the floor: %d APDUs, %.1f ms: %s)"
      % (len(extra), sum(cost(c, r) for _, c, r in extra) / 1000,
         ", ".join({"00 A4": "SELECT EF.CardAccess", "00 B0": "READ BINARY EF.CardAccess",
                    "00 C0": "GET RESPONSE"}.get(p[0][:5], p[0][:11]) for p in extra)))
print("  contactless warm PIN + sign (median): %.1f ms, %d APDUs; floor %.1f ms, %d APDUs"
      % (ms, napdu, floor_us / 1000, len(pace) + len(sm)))
print("  ratio to the floor: time %.2f, APDUs %.2f; without the scripted CAN dialog (%.1f ms): time %.2f"
      % (ms * 1000 / floor_us, napdu / (len(pace) + len(sm)), dlg, (ms - dlg) * 1000 / floor_us))
mc = re.search(r"([0-9.]+) ms +([0-9]+) APDUs", ct)
if mc:
    print("  contact, same model, warm C_Initialize to a verified signature (median of 3): %s ms, %s APDUs (contactless / contact: %.2f)"
          % (mc.group(1), mc.group(2), ms / float(mc.group(1))))
EOF
  done
  exit "$rc"
fi
