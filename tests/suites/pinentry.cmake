# The shared pinentry client (src/pinentry) against the scripted pinentry
# tests/harness/pinentry-script: the Assuan commands it sends, escaping,
# answers, the abort control.  Like the client, it needs no libcnie.
add_executable(test_pinentry unit/test_pinentry.c)
target_link_libraries(test_pinentry PRIVATE cnie_pinentry PkgConfig::CMOCKA Threads::Threads)
target_include_directories(test_pinentry PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_compile_definitions(test_pinentry PRIVATE CNIE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_test(NAME unit.pinentry COMMAND test_pinentry)
set_tests_properties(unit.pinentry PROPERTIES LABELS unit TIMEOUT 120)
