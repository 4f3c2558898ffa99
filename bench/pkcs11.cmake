# bench_pkcs11: C_Initialize to a verified signature through cnie-pkcs11.so
# (or any module, e.g. OpenSC's), phase by phase, with the card APDUs of
# each phase read from the virtual reader's counter (bench/run.d/pkcs11.sh
# runs it cold and warm cache, with the emulator's timing model on).
add_executable(bench_pkcs11 bench_pkcs11.c)
target_include_directories(bench_pkcs11 PRIVATE ${P11KIT_INCLUDE_DIRS})
target_link_libraries(bench_pkcs11 PRIVATE PkgConfig::OPENSSL ${CMAKE_DL_LIBS} cnie_testutil)
add_dependencies(bench bench_pkcs11)
if(TARGET cnie-pkcs11)
  add_dependencies(bench cnie-pkcs11)
endif()
