# `cmake --install` into a scratch prefix, /usr/local and /usr (DESTDIR):
# programs start without LD_LIBRARY_PATH, a program builds against libcnie
# (pkg-config, find_package), p11-kit/udev/systemd files where the system
# reads them, units verified, no test tool, no build-tree path.
add_test(NAME install.prefix
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/install_check.sh
          ${CMAKE_COMMAND} ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(install.prefix PROPERTIES LABELS "integration;install" TIMEOUT 300)
