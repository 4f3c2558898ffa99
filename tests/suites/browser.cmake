# The web side of the bridge: the demo portal in headless Chromium through
# cnied on the reference card (tests/browser/run.sh; skipped, exit 77, only
# when chromium or node is missing, and a failure then under CI=true), the one-command demo's --check mode
# (scripts/demo), and cnie-tool verify-token on a token of the reference
# card.  The portal tests drive the citizen page through its states (bridge
# not installed, card ready, a failure, logged in, signed, identity), audit
# each with axe-core (a WCAG level A violation fails; AA findings are kept in
# axe-*.json) and run the Web eID-compatible API of the npm-packed web/
# package against cnied (its token checked with cnie-tool verify-token).
# Screenshots: ${CMAKE_BINARY_DIR}/browser-artifacts.
# browser.portal_pcsc: the same flow with cnied on PC/SC (scripts/demo
# --pcsc) under tests/harness/with-pcscd --virtual --hide-usb, the EC card in
# virtual reader 0 (a card nobody used yet is not called unknown), plus card
# removal and re-insertion seen by the page through /v1/events, and a second
# card (virtual reader 1): the page asks which card, the citizen chooses it
# with the keyboard and logs in with it.
# Screenshots: ${CMAKE_BINARY_DIR}/browser-artifacts/pcsc.
# browser.portal_states: PC/SC with no reader (with-pcscd --hide-usb), then
# with no PC/SC service (--no-pcscd): the page says so and what to do.
# Screenshots: ${CMAKE_BINARY_DIR}/browser-artifacts/states.
add_test(NAME browser.portal
  COMMAND ${PROJECT_SOURCE_DIR}/tests/browser/run.sh ${PROJECT_BINARY_DIR})
set_tests_properties(browser.portal PROPERTIES LABELS "browser;integration"
  TIMEOUT 600 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
  ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR};CNIE_SOURCE_DIR=${PROJECT_SOURCE_DIR};CNIE_NO_CACHE=1")

add_test(NAME browser.portal_pcsc
  COMMAND ${PROJECT_SOURCE_DIR}/tests/browser/run.sh ${PROJECT_BINARY_DIR} --pcsc)
set_tests_properties(browser.portal_pcsc PROPERTIES LABELS "browser;integration"
  TIMEOUT 600 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
  ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR};CNIE_SOURCE_DIR=${PROJECT_SOURCE_DIR};CNIE_NO_CACHE=1")

add_test(NAME browser.portal_states
  COMMAND ${PROJECT_SOURCE_DIR}/tests/browser/run.sh ${PROJECT_BINARY_DIR} --no-reader)
set_tests_properties(browser.portal_states PROPERTIES LABELS "browser;integration"
  TIMEOUT 600 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
  ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR};CNIE_SOURCE_DIR=${PROJECT_SOURCE_DIR};CNIE_NO_CACHE=1")

# browser.l10n: the portal in Arabic (dir="rtl", mirrored layout, drawn with
# an Arabic font), French and English from the browser's languages, and the
# language chooser (tests/browser/l10n.sh; no bridge needed).
# Screenshots: ${CMAKE_BINARY_DIR}/browser-artifacts/l10n.
add_test(NAME browser.l10n
  COMMAND ${PROJECT_SOURCE_DIR}/tests/browser/l10n.sh ${PROJECT_BINARY_DIR})
set_tests_properties(browser.l10n PROPERTIES LABELS "browser;l10n;integration"
  TIMEOUT 300 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

add_test(NAME browser.demo-check
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/demo --check --no-install --build-dir ${PROJECT_BINARY_DIR})
set_tests_properties(browser.demo-check PROPERTIES LABELS "browser;integration"
  TIMEOUT 600 RUN_SERIAL TRUE
  ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR};CNIE_SOURCE_DIR=${PROJECT_SOURCE_DIR};CNIE_NO_CACHE=1")

# The JS client (web/cnie-bridge.js) under Node with a fake fetch.
# Without node at configure time the test is still listed and reports the
# skip when run (a failure under CI=true: tests/harness/skip.sh).
find_program(CNIE_NODE node)
if(CNIE_NODE)
  add_test(NAME browser.client COMMAND ${CNIE_NODE} client.test.mjs
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/browser)
else()
  add_test(NAME browser.client COMMAND bash -c
    ". '${CNIE_HARNESS}/skip.sh'; cnie_skip 'node not installed (apt-get install nodejs)'")
endif()
set_tests_properties(browser.client PROPERTIES LABELS "browser;unit" TIMEOUT 60
  SKIP_RETURN_CODE 77)

# The Web eID-compatible API (web/web-eid.js: Web eID's shapes, the bridge's
# errors as Web eID errors) under Node with a fake fetch; the npm package of
# web/ (npm pack, installed by name, tsc --strict on a Web eID portal's
# TypeScript against the hand-written declarations).
if(CNIE_NODE)
  add_test(NAME browser.webeid-compat COMMAND ${CNIE_NODE} webeid-compat.test.mjs
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/browser)
else()
  add_test(NAME browser.webeid-compat COMMAND bash -c
    ". '${CNIE_HARNESS}/skip.sh'; cnie_skip 'node not installed (apt-get install nodejs)'")
endif()
set_tests_properties(browser.webeid-compat PROPERTIES LABELS "browser;unit" TIMEOUT 60
  SKIP_RETURN_CODE 77)
add_test(NAME browser.package
  COMMAND ${PROJECT_SOURCE_DIR}/tests/browser/package-test.sh ${PROJECT_BINARY_DIR})
set_tests_properties(browser.package PROPERTIES LABELS "browser;unit" TIMEOUT 300
  SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# browser.kiosk: the kiosk end to end (docs/kiosk.md, tests/browser/kiosk.sh):
# cnied --kiosk on PC/SC (private pcscd, virtual readers empty at start),
# the example kiosk page web/kiosk, headless Chromium: insert in the PIN-pad
# reader, consent on the page, the PIN on the pad (cnie-sim keys), logged
# in, card removed, logged out; two cards (the choice, pinpad-required on the
# reader without keypad, Cancel on the pad); Arabic and French; axe-core on
# each state; no dialog ever started.
# Screenshots: ${CMAKE_BINARY_DIR}/browser-artifacts/kiosk.
add_test(NAME browser.kiosk
  COMMAND ${PROJECT_SOURCE_DIR}/tests/browser/kiosk.sh ${PROJECT_BINARY_DIR})
set_tests_properties(browser.kiosk PROPERTIES LABELS "browser;integration;kiosk"
  TIMEOUT 600 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
  ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR};CNIE_SOURCE_DIR=${PROJECT_SOURCE_DIR};CNIE_NO_CACHE=1")
