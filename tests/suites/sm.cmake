# Secure messaging, BAC, PACE (libcnie) and the card side of the ICAO
# protocols (drivers/emu/emu_auth.c, in the emulator's static library cnie_emu).
cnie_unit(sm)
cnie_unit(bac)
cnie_unit(pace)
cnie_unit(emu_auth)
target_link_libraries(test_emu_auth PRIVATE cnie_emu PkgConfig::EAC)

cnie_fuzz(sm)
cnie_fuzz(pace_infos)
cnie_fuzz(pace_cam)
cnie_fuzz(pace_terminal)
