# Fault injection (tests/common/fault.h, after libfido2's fuzz/wrap.c): the
# allocator and the OpenSSL/OpenPACE calls fail one at a time, call k of
# every k, on the card layer against the reference card, PKCS#15 parsing of
# real card files, secure messaging and the bridge's request parsing.  Each
# run must end in an error or a checked result, never crash, never leak
# (ASan/LSan build).  Figures: the "FIGURE fault" lines of each test.
function(cnie_fault_unit name)
  cnie_unit(fault_${name} ${ARGN})
  target_link_libraries(test_fault_${name} PRIVATE cnie_fault)
  set_tests_properties(unit.fault_${name} PROPERTIES TIMEOUT 600)
endfunction()

cnie_fault_unit(sm)
cnie_fault_unit(pkcs15)
add_dependencies(test_fault_pkcs15 test_cards)
cnie_fault_unit(card)
add_dependencies(test_fault_card test_cards cnie_refcard)
# The bridge's request parsing (src/cnied/request.c, library cnied_core).
cnie_fault_unit(bridge_request)
target_link_libraries(test_fault_bridge_request PRIVATE cnied_core PkgConfig::JANSSON)
