# libcnie's exported ABI (src/libcnie/libcnie.map) against the built
# library, the public headers and their install list (tests/unit/abi_check.sh).
get_property(_cnie_public_headers GLOBAL PROPERTY CNIE_PUBLIC_HEADERS)
string(JOIN " " _cnie_public_headers ${_cnie_public_headers})
add_test(NAME unit.abi COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/unit/abi_check.sh
  $<TARGET_FILE:cnie> ${PROJECT_SOURCE_DIR}/src/libcnie/libcnie.map
  ${PROJECT_SOURCE_DIR}/include "${_cnie_public_headers}")
set_tests_properties(unit.abi PROPERTIES LABELS unit TIMEOUT 60)
