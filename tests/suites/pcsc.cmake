# PC/SC transport (src/libcnie/pcsc.c): unit tests and a fuzz harness over a
# scripted winscard (tests/unit/fake_winscard.c).  The fake's definitions
# of SCard* and cnie_transport_new are object files of the executable, so
# they win over libpcsclite and over src/libcnie/transport.c in cnie_static.
add_library(cnie_fake_winscard OBJECT unit/fake_winscard.c)
target_link_libraries(cnie_fake_winscard PUBLIC cnie_obj)

cnie_unit(pcsc)
target_link_libraries(test_pcsc PRIVATE cnie_fake_winscard)
target_include_directories(test_pcsc PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)

cnie_fuzz(pcsc cnie_fake_winscard)
target_include_directories(fuzz_pcsc PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
