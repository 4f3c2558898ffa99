# `cmake --install` into a scratch prefix installs the library (exporting
# only cnie_* symbols), its headers and every program.
add_test(NAME install.prefix
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/install_check.sh
          ${CMAKE_COMMAND} ${PROJECT_BINARY_DIR})
set_tests_properties(install.prefix PROPERTIES LABELS integration TIMEOUT 120)
