# ICAO 9303 data: MRZ, LDS data groups, Passive Authentication.
cnie_unit(mrz)
cnie_unit(lds)
cnie_unit(pa)
# The LDS and PA tests read the generated test cards and PKI.
foreach(t lds pa)
  add_dependencies(test_${t} test_cards)
  set_tests_properties(unit.${t} PROPERTIES
    ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR}")
endforeach()

cnie_fuzz(mrz)
cnie_fuzz(dg)
cnie_fuzz(sod)
cnie_fuzz(dg14)
# lds_internal.h lives beside libcnie's sources (the Chip Authentication key lookup).
target_include_directories(fuzz_dg14 PRIVATE ${PROJECT_SOURCE_DIR}/src/libcnie)
