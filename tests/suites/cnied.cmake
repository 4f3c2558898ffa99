# cnied, the local HTTPS bridge (src/cnied, docs/bridge-api.md).  src/CMakeLists.txt
# always builds it: no guard here, so a missing target is an error, never
# a silently smaller suite.
find_program(CNIED_PYTHON3 python3 REQUIRED)
set(CNIED_TEST ${CMAKE_CURRENT_SOURCE_DIR}/cnied/cnied_test.py)
# In-process reference card: one daemon per case, scripted pinentry.
foreach(case status authenticate sign identity pin hostile slowloris flood socket busy peer
    shutdown statedir renew fairness)
  cnie_integration(cnied_${case} ${CNIED_PYTHON3} ${CNIED_TEST} ${case})
  set_tests_properties(integration.cnied_${case} PROPERTIES LABELS "integration;cnied")
endforeach()
# PC/SC: through a private pcscd and the virtual readers.
cnie_integration(cnied_pcsc ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  ${CNIED_PYTHON3} ${CNIED_TEST} pcsc)
set_tests_properties(integration.cnied_pcsc PROPERTIES LABELS "integration;cnied")
# cnie-tool bridge status|trust (cmd_bridge.c) through a small driver.
add_executable(test_cnied_bridge_tool cnied/bridge_driver.c
  ${PROJECT_SOURCE_DIR}/tools/cnie-tool/cmd_bridge.c
  ${PROJECT_SOURCE_DIR}/tools/cnie-tool/nssdb.c)
target_include_directories(test_cnied_bridge_tool PRIVATE ${PROJECT_SOURCE_DIR}/tools/cnie-tool)
target_link_libraries(test_cnied_bridge_tool PRIVATE cnie PkgConfig::JANSSON PkgConfig::OPENSSL)
cnie_integration(cnied_bridge_tool ${CNIED_PYTHON3} ${CNIED_TEST} bridge_tool)
set_tests_properties(integration.cnied_bridge_tool PROPERTIES LABELS "integration;cnied")
foreach(case status authenticate sign identity pin hostile slowloris flood socket busy pcsc
    bridge_tool peer shutdown statedir renew fairness)
  set_property(TEST integration.cnied_${case} APPEND PROPERTY ENVIRONMENT
    "CNIED_BRIDGE_DRIVER=$<TARGET_FILE:test_cnied_bridge_tool>")
endforeach()

# The compiled-in default origins, replaced by --allow-origin.
cnie_integration(cnied_default_origins ${CMAKE_CURRENT_SOURCE_DIR}/cnied/default_origins.sh)
string(REPLACE ";" " " _origins "${CNIED_DEFAULT_ORIGINS}")
set_property(TEST integration.cnied_default_origins APPEND PROPERTY ENVIRONMENT
  "CNIED_DEFAULT_ORIGINS=${_origins}")
set_property(TEST integration.cnied_default_origins APPEND PROPERTY LABELS cnied)

# In-process tests of the API layer (route table, replies, worker,
# operations) against the reference card and the scripted pinentry.
add_executable(test_cnied_api cnied/test_cnied_api.c)
target_link_libraries(test_cnied_api PRIVATE cnied_api PkgConfig::CMOCKA)
target_compile_definitions(test_cnied_api PRIVATE
  CNIE_TEST_BUILD_DIR="${PROJECT_BINARY_DIR}" CNIE_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(test_cnied_api test_cards cnie_refcard)
add_test(NAME unit.cnied_api COMMAND test_cnied_api)
set_tests_properties(unit.cnied_api PROPERTIES LABELS "unit;cnied" TIMEOUT 120)

# Untrusted input surfaces: request bodies, Origin/Host headers, the raw
# request head (src/cnied/head.c: unit tests and a harness).
cnie_fuzz(cnied_request cnied_core)
cnie_fuzz(cnied_origin cnied_core)
cnie_fuzz(cnied_head cnied_core)
add_executable(test_cnied_head cnied/test_cnied_head.c)
target_link_libraries(test_cnied_head PRIVATE cnied_core PkgConfig::CMOCKA)
add_test(NAME unit.cnied_head COMMAND test_cnied_head)
set_tests_properties(unit.cnied_head PROPERTIES LABELS "unit;cnied")

# Kiosk mode (src/cnied/kiosk.c, docs/kiosk.md) and the documented config
# file etc/cnied.conf.example (tests/cnied/kiosk_test.py).
set(CNIED_KIOSK_TEST ${CMAKE_CURRENT_SOURCE_DIR}/cnied/kiosk_test.py)
cnie_integration(cnied_kiosk_config ${CNIED_PYTHON3} ${CNIED_KIOSK_TEST} config)
cnie_integration(cnied_kiosk_refcard ${CNIED_PYTHON3} ${CNIED_KIOSK_TEST} refcard)
cnie_integration(cnied_kiosk_pcsc ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  ${CNIED_PYTHON3} ${CNIED_KIOSK_TEST} pcsc)
foreach(case config refcard pcsc)
  set_tests_properties(integration.cnied_kiosk_${case} PROPERTIES LABELS "integration;cnied;kiosk")
endforeach()
