# udev rules: strict syntax check and evaluation against synthetic devices
# (tests/udev/devices/*.json); needs python3 only, no running udev.
find_program(CNIE_PYTHON3 python3)
if(CNIE_PYTHON3)
  add_test(NAME udev.rules
    COMMAND ${CNIE_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/udev/check-rules
            ${PROJECT_SOURCE_DIR})
  set_tests_properties(udev.rules PROPERTIES LABELS unit TIMEOUT 60)
else()
  # Still listed: it reports the skip (a failure under CI=true: tests/harness/skip.sh).
  add_test(NAME udev.rules COMMAND bash -c
    ". '${CNIE_HARNESS}/skip.sh'; cnie_skip 'python3 not installed'")
  set_tests_properties(udev.rules PROPERTIES LABELS unit SKIP_RETURN_CODE 77)
endif()
