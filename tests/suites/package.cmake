# The Debian packages (debian/, scripts/package): built once, lintian, then
# installed and used in a clean Debian 12 root (tests/package/deb_check.sh).
# Label "package": scripts/test runs it in its normal pass only.
add_test(NAME package.deb
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/package/deb_check.sh
          ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(package.deb PROPERTIES LABELS package TIMEOUT 1200
  SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
