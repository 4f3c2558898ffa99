# shellcheck shell=bash disable=SC2154  # $here, $build: set by bench/run
# Every front end on the cards at once (issue 11; tests/integration/
# desktop_mix.py, the same runs as ctest's integration.desktop_coexist and
# integration.desktop_chaos, longer): PKCS#11 signers (every signature
# verified), cnied on PC/SC authenticating (every token verified), a
# cnie-tool info loop.
#   coexist  one card, no card movement, ${CNIE_BENCH_COEXIST_S:-60} s:
#            operations per kind (goal: 0 failed operations)
#   chaos    two readers, random remove / insert / reset every 50-500 ms on
#            each, pcscd restarted once, ${CNIE_BENCH_CHAOS_S:-240} s (about
#            4.5 card events a second: >= 1000 events): operations, clean
#            errors by kind, crashes, hangs, wrong results, PIN tries left
#            (goal: 0 crashes, hangs, wrong results, lost PIN tries)
# Sourced by bench/run with $here and $build set.  Prints figures only.
echo "== bench: desktop mix (PKCS#11 + cnied + cnie-tool on shared cards)"
if [ ! -x "$build/tests/p11_coexist" ] || [ ! -x "$build/src/cnied/cnied" ]; then
  echo "  p11_coexist or cnied not built: skipped"
else
  for mode in coexist chaos; do
    if [ "$mode" = coexist ]; then
      secs=${CNIE_BENCH_COEXIST_S:-60} cards="ec - -"
    else
      secs=${CNIE_BENCH_CHAOS_S:-240} cards="ec - rsa"
    fi
    echo "-- $mode, $secs s"
    CNIE_VIRTUAL_CARDS=$cards "$here/tests/harness/with-pcscd" --virtual --hide-usb -- \
      python3 "$here/tests/integration/desktop_mix.py" "$mode" "$secs" \
      "$build/tests/p11_coexist" "$build/pkcs11/cnie-pkcs11.so" "$build/src/cnied/cnied" \
      "$build/tools/cnie-tool/cnie-tool" "$build/drivers/ifd/cnie-sim" |
      sed 's/^/  /' || echo "  ($mode run failed: exit $?)"
  done
fi
