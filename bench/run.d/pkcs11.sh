# shellcheck shell=bash disable=SC2154  # $here, $build: set by bench/run
# PKCS#11: C_Initialize to a verified signature through cnie-pkcs11.so
# (bench/bench_pkcs11.c), with the emulator's timing model on (pcscd gets
# CNIE_EMU_TIMING, which the virtual reader's card reads when inserted:
# 5 ms per APDU, T=1 at 115200 bit/s, RSA 150 ms, EC 80 ms, PACE 40 ms,
# the figures of bench_card.c), for the EC and the RSA card:
#   cold  empty XDG_CACHE_HOME (PKCS#15 files and certificates from the card)
#   warm  a second process with the same XDG_CACHE_HOME (goal for the
#         PIN + sign part: at most 5 card APDUs)
#   sign  warm, the signature key (PIN again before the signature)
#   two   two readers (EC cards in readers 0 and 2), a thread each, vs one
# then the warm flow's APDUs one per line (CNIE_APDU_TRACE, bodies masked),
# and OpenSC's opensc-pkcs11.so on the same card and flow.
# Card APDUs are the virtual reader's counter (`cnie-sim status`).
# Sourced by bench/run with $here and $build set; runs itself again under
# with-pcscd with CNIE_BENCH_P11_INNER=1.
if [ "${CNIE_BENCH_P11_INNER:-}" != 1 ]; then
  echo "== bench: PKCS#11 module, C_Initialize to a verified signature (timing model on)"
  if [ ! -f "$build/pkcs11/cnie-pkcs11.so" ] || [ ! -x "$build/bench/bench_pkcs11" ]; then
    echo "  cnie-pkcs11.so or bench_pkcs11 not built: skipped"
  else
    CNIE_BENCH_P11_INNER=1 CNIE_EMU_TIMING=${CNIE_EMU_TIMING:-5000,115200,150000,80000,40000} \
      CNIE_BENCH_BUILD=$build \
      "$here/tests/harness/with-pcscd" --virtual --hide-usb -- \
      bash "$here/bench/run.d/pkcs11.sh" || echo "  (PKCS#11 bench failed: exit $?)"
  fi
else
  set -u
  build=$CNIE_BENCH_BUILD
  sim=$build/drivers/ifd/cnie-sim
  mod=$build/pkcs11/cnie-pkcs11.so
  bench=$build/bench/bench_pkcs11
  opensc=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-pkcs11.XXXXXX")
  trap 'rm -rf -- "$tmp"' EXIT
  export BENCH_APDU_CMD="$sim --reader 0 status" HOME=$tmp/home
  mkdir -p "$HOME"
  "$sim" --reader 2 remove >/dev/null
  echo "  timing model: CNIE_EMU_TIMING=$CNIE_EMU_TIMING (latency_us,bit/s,rsa_us,ec_us,pace_us)"
  rc=0
  for card in ec rsa; do
    cp -a -- "$build/cards/$card" "$tmp/$card"
    "$sim" --reader 0 remove >/dev/null
    "$sim" --reader 0 insert "$tmp/$card" >/dev/null
    export XDG_CACHE_HOME=$tmp/cache-$card
    echo "  -- $card card, cnie-pkcs11.so, cold cache (authentication key)"
    "$bench" "$mod" auth || rc=1
    echo "  -- $card card, cnie-pkcs11.so, warm cache (second process, same XDG_CACHE_HOME)"
    "$bench" "$mod" auth || rc=1
    echo "  -- $card card, cnie-pkcs11.so, warm cache, signature key (PIN before the signature)"
    "$bench" "$mod" sign || rc=1
    echo "  -- $card card, warm flow's card APDUs (CNIE_APDU_TRACE, bodies masked):"
    CNIE_APDU_TRACE=1 "$bench" "$mod" auth 2>"$tmp/trace" >/dev/null || rc=1
    grep -E -i '(>>|->|C-APDU|apdu).*[0-9A-F]{2} ?[0-9A-F]{2}' "$tmp/trace" | sed 's/^/     /' | head -n 40
    # OpenSC matches no driver to the card's ATR ("token not recognized");
    # with its generic driver forced it binds the PKCS#15 application
    # (objects, PIN) but that driver offers no signature mechanism.
    if [ -f "$opensc" ]; then
      printf 'app default {\n  enable_default_driver = true;\n  card_drivers = default;\n}\n' >"$tmp/opensc.conf"
      for conf in system "$tmp/opensc.conf"; do
        if [ "$conf" = system ]; then
          echo "  -- $card card, OpenSC opensc-pkcs11.so (its own configuration), same flow"
          ( unset OPENSC_CONF; "$bench" "$opensc" auth ) >"$tmp/out" 2>&1
        else
          echo "  -- $card card, OpenSC opensc-pkcs11.so with card_drivers = default, same flow"
          OPENSC_CONF=$conf "$bench" "$opensc" auth >"$tmp/out" 2>&1
        fi
        r=$?
        sed 's/^/   /' "$tmp/out"
        [ "$r" = 0 ] || echo "     OpenSC: the flow did not complete (exit $r)"
      done
    else
      echo "  -- $opensc not installed: no comparison"
    fi
  done
  # Two readers (issue 11, item 5): the EC card in readers 0 and 2, one
  # thread each, against one reader alone (goal: <= 1.3x).
  echo "  -- two readers, two threads (EC cards in readers 0 and 2)"
  for r in 0 2; do
    cp -a -- "$build/cards/ec" "$tmp/ec-$r"
    "$sim" --reader "$r" remove >/dev/null 2>&1 || true  # reader 2 may be empty
    "$sim" --reader "$r" insert "$tmp/ec-$r" >/dev/null
  done
  export XDG_CACHE_HOME=$tmp/cache-two
  "$bench" "$mod" two || rc=1
  exit "$rc"
fi
