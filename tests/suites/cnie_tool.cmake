# cnie-tool: unit tests of the USB matching (synthetic descriptors, no
# hardware) and of the tool's helpers, and every subcommand against the
# reference card through a private pcscd (tests/tool/run.sh CASE).

cnie_unit(usb_match ${PROJECT_SOURCE_DIR}/tools/cnie-tool/usb_match.c)
target_include_directories(test_usb_match PRIVATE ${PROJECT_SOURCE_DIR}/tools/cnie-tool)

cnie_unit(tool_photo ${PROJECT_SOURCE_DIR}/tools/cnie-tool/photo.c)
target_include_directories(test_tool_photo PRIVATE ${PROJECT_SOURCE_DIR}/tools/cnie-tool)
target_link_libraries(test_tool_photo PRIVATE PkgConfig::JANSSON PkgConfig::LIBJPEG
  PkgConfig::OPENJP2 PkgConfig::LIBPNG)

cnie_unit(tool_secret ${PROJECT_SOURCE_DIR}/tools/cnie-tool/secret.c)
target_include_directories(test_tool_secret PRIVATE ${PROJECT_SOURCE_DIR}/tools/cnie-tool)
target_compile_definitions(test_tool_secret PRIVATE CNIE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(test_tool_secret PRIVATE cnie_pinentry PkgConfig::JANSSON)

set(_tool_run ${PROJECT_SOURCE_DIR}/tests/tool/run.sh)
set(_tool_deps cnie-tool cnie-sim ifd-cnie-sim test_cards)

# Each case: (name, with-pcscd options).
cnie_integration(tool_usage ${_tool_run} usage)
foreach(case readers info identity certs pin sign doctor-ok doctor-no-card doctor-contactless
    doctor-unknown-card doctor-pin-blocked doctor-expired doctor-bridge)
  string(REPLACE "-" "_" _n ${case})
  cnie_integration(tool_${_n} ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb -- ${_tool_run} ${case})
endforeach()
cnie_integration(tool_readers_no_pcscd ${CNIE_HARNESS}/with-pcscd --no-pcscd -- ${_tool_run} readers-no-pcscd)
cnie_integration(tool_doctor_no_pcscd ${CNIE_HARNESS}/with-pcscd --no-pcscd -- ${_tool_run} doctor-no-pcscd)
cnie_integration(tool_doctor_no_reader ${CNIE_HARNESS}/with-pcscd --hide-usb -- ${_tool_run} doctor-no-reader)
# The in-process reference card (--reference-card DIR): no pcscd involved.
cnie_integration(tool_refcard ${CNIE_HARNESS}/with-pcscd --no-pcscd -- ${_tool_run} refcard)

# The USB matching on arbitrary bytes (Info.plist, descriptors, reader names).
cnie_fuzz(usb_match)
target_sources(fuzz_usb_match PRIVATE ${PROJECT_SOURCE_DIR}/tools/cnie-tool/usb_match.c)
target_include_directories(fuzz_usb_match PRIVATE ${PROJECT_SOURCE_DIR}/tools/cnie-tool)

# Installed files: binary, man pages (rendered with warnings on), completion.
add_test(NAME tool.install COMMAND ${PROJECT_SOURCE_DIR}/tests/tool/install-check.sh
  ${PROJECT_BINARY_DIR})
set_tests_properties(tool.install PROPERTIES LABELS unit TIMEOUT 120)

# bridge status follows cnied's port file: a cnied on [::1] only, a dead
# first listener (tests/tool/bridge-ipv6.sh).
add_test(NAME integration.tool_bridge_ipv6
  COMMAND ${PROJECT_SOURCE_DIR}/tests/tool/bridge-ipv6.sh ${PROJECT_BINARY_DIR})
set_tests_properties(integration.tool_bridge_ipv6 PROPERTIES LABELS "integration;cnied" TIMEOUT 120
  SKIP_RETURN_CODE 77)
