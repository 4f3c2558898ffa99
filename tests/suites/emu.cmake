# The reference card (drivers/emu): unit tests on a card directory made at
# test time, and the APDU fuzz harness on the fixture card in
# tests/cards-fixture/emu (its state stays in memory).
cnie_unit(emu)
target_link_libraries(test_emu PRIVATE cnie_emu)

cnie_fuzz(emu cnie_emu)
target_compile_definitions(fuzz_emu PRIVATE
  CNIE_EMU_FIXTURE="${PROJECT_SOURCE_DIR}/tests/cards-fixture/emu")
