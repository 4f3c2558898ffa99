# The web side of the bridge: the demo portal in headless Chromium through
# cnied on the reference card (tests/browser/run.sh; skipped, exit 77, only
# when chromium or node is missing), the one-command demo's --check mode
# (scripts/demo), and cnie-tool verify-token on a token of the reference
# card.  Screenshots: ${CMAKE_BINARY_DIR}/browser-artifacts.
# browser.portal_pcsc: the same flow with cnied on PC/SC (scripts/demo
# --pcsc) under tests/harness/with-pcscd --virtual --hide-usb, the EC card in
# virtual reader 0, plus card removal seen by the page through /v1/events.
# Screenshots: ${CMAKE_BINARY_DIR}/browser-artifacts/pcsc.
if(TARGET cnied AND TARGET cnie-tool)
  add_test(NAME browser.portal
    COMMAND ${PROJECT_SOURCE_DIR}/tests/browser/run.sh ${PROJECT_BINARY_DIR})
  set_tests_properties(browser.portal PROPERTIES LABELS "browser;integration"
    TIMEOUT 600 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
    ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR};CNIE_SOURCE_DIR=${PROJECT_SOURCE_DIR};CNIE_NO_CACHE=1")

  if(TARGET ifd-cnie-sim AND TARGET cnie-sim)
    add_test(NAME browser.portal_pcsc
      COMMAND ${PROJECT_SOURCE_DIR}/tests/browser/run.sh ${PROJECT_BINARY_DIR} --pcsc)
    set_tests_properties(browser.portal_pcsc PROPERTIES LABELS "browser;integration"
      TIMEOUT 600 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
      ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR};CNIE_SOURCE_DIR=${PROJECT_SOURCE_DIR};CNIE_NO_CACHE=1")
  endif()

  add_test(NAME browser.demo-check
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/demo --check --no-install --build-dir ${PROJECT_BINARY_DIR})
  set_tests_properties(browser.demo-check PROPERTIES LABELS "browser;integration"
    TIMEOUT 600 RUN_SERIAL TRUE
    ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR};CNIE_SOURCE_DIR=${PROJECT_SOURCE_DIR};CNIE_NO_CACHE=1")
endif()

# The JS client (web/cnie-bridge.js) under Node with a fake fetch.
find_program(CNIE_NODE node)
if(CNIE_NODE)
  add_test(NAME browser.client COMMAND ${CNIE_NODE} client.test.mjs
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/browser)
  set_tests_properties(browser.client PROPERTIES LABELS "browser;unit" TIMEOUT 60)
endif()
