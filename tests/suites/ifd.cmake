# Virtual reader driver (drivers/ifd): PIN-pad structure parsing and
# formatting, the IFD handler entry points, a fuzz harness for the PIN
# structures, and integration tests through a private pcscd
# (tests/integration/ifd_run.sh: tests/harness/with-pcscd --virtual once it
# calls tests/harness/setup-virtual-readers, its own namespace until then).
cnie_unit(ifd_pinpad)
target_link_libraries(test_ifd_pinpad PRIVATE cnie_ifd_pinpad)

# The entry points with the real emulator and a card from the build.
cnie_unit(ifd)
target_link_libraries(test_ifd PRIVATE cnie_ifd_obj cnie_ifd_pinpad cnie_emu)
set_tests_properties(unit.ifd PROPERTIES SKIP_RETURN_CODE 77
  ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR}")

cnie_fuzz(ifd_pinpad cnie_ifd_pinpad)

add_executable(ifd_pcsc integration/ifd_pcsc.c)
target_link_libraries(ifd_pcsc PRIVATE PkgConfig::PCSC cnie_testutil)

set(IFD_RUN ${CMAKE_CURRENT_SOURCE_DIR}/integration/ifd_run.sh)
set(IFD_CARD ${PROJECT_BINARY_DIR}/cards/ec)
# Readers, names and order, an APDU through OpenSC, cnie-sim exit codes.
cnie_integration(ifd_readers ${IFD_RUN} -- ${CMAKE_CURRENT_SOURCE_DIR}/integration/ifd_readers.sh
  $<TARGET_FILE:cnie-sim>)
# Insert/remove seen by SCardGetStatusChange within 500 ms (latency printed).
cnie_integration(ifd_events ${IFD_RUN} -- $<TARGET_FILE:ifd_pcsc> events $<TARGET_FILE:cnie-sim>
  ${IFD_CARD})
# reset drops the PIN state; the PIN counter lives in the run's state file.
cnie_integration(ifd_reset ${IFD_RUN} -- $<TARGET_FILE:ifd_pcsc> reset $<TARGET_FILE:cnie-sim>
  ${IFD_CARD})
# PC/SC part 10 PIN pad: verify/modify with queued keys, cancel, timeout.
cnie_integration(ifd_pinpad ${IFD_RUN} -- $<TARGET_FILE:ifd_pcsc> pinpad $<TARGET_FILE:cnie-sim>)
# The PIN counter across a pcscd restart.
cnie_integration(ifd_restart ${CMAKE_CURRENT_SOURCE_DIR}/integration/ifd_restart.sh ${IFD_RUN}
  $<TARGET_FILE:ifd_pcsc>)
# The PACE reader (index 3, PC/SC part 10 amendment 1 EXECUTE_PACE): the
# CAN on its keypad, a second client, Destroy, reset, wrong CAN, cancel,
# timeout and malformed inputs, seen from a raw PC/SC client.
cnie_integration(ifd_pace ${IFD_RUN} -- $<TARGET_FILE:ifd_pcsc> pace $<TARGET_FILE:cnie-sim>
  ${IFD_CARD})
# cnie-tool on the PACE reader: info and pin verify with the CAN and the PIN
# on the keypad; pcscd's APDU log and the driver's log hold neither, and no
# client sent a PACE command; wrong CAN (exit 4), keypad cancel (exit 5);
# control runs prove the greps can fail.
cnie_integration(ifd_pace_tool ${CMAKE_CURRENT_SOURCE_DIR}/integration/ifd_pace_tool.sh
  ${CNIE_HARNESS}/with-pcscd $<TARGET_FILE:cnie-sim> $<TARGET_FILE:cnie-tool>
  ${PROJECT_BINARY_DIR}/cards)

# PACE run by the reader: libcnie's readers of EXECUTE_PACE answers (hostile
# inputs), the virtual reader's input parser, and card.c over the IFD
# handler of a "pace" reader with the real emulator (keypad scripted).
cnie_unit(reader_pace)
target_link_libraries(test_reader_pace PRIVATE cnie_ifd_obj cnie_ifd_pinpad cnie_emu)
set_tests_properties(unit.reader_pace PROPERTIES SKIP_RETURN_CODE 77
  ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR}")
cnie_fuzz(reader_pace)
# The virtual PACE reader's EXECUTE_PACE input parser (any client's bytes).
cnie_fuzz(ifd_pace cnie_ifd_obj cnie_ifd_pinpad cnie_emu)
