# The test harness itself: a machine where tests/harness/with-pcscd cannot
# make its namespaces (simulated by tests/harness/deny_namespaces, a seccomp
# filter) fails under CI=true and skips visibly outside CI.
add_executable(deny_namespaces harness/deny_namespaces.c)
add_test(NAME integration.harness_ci
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/harness_ci.sh ${CNIE_HARNESS}/with-pcscd
          $<TARGET_FILE:deny_namespaces>)
set_tests_properties(integration.harness_ci PROPERTIES LABELS integration TIMEOUT 60)

# The shared test helpers (tests/common): the skip rule for C tests and the rest.
cnie_unit(testutil)
