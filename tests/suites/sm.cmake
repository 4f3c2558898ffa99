# Secure messaging, BAC, PACE (libcnie) and the card side of the ICAO
# protocols (drivers/emu/emu_auth.c, part of cnie_static).
cnie_unit(sm)
cnie_unit(bac)
cnie_unit(pace)
cnie_unit(emu_auth)
target_include_directories(test_emu_auth PRIVATE ${PROJECT_SOURCE_DIR}/drivers/emu)
target_link_libraries(test_emu_auth PRIVATE PkgConfig::EAC)

cnie_fuzz(sm)
