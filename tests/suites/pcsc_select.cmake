# Choosing a reader (cnie_pcsc_select_reader in src/libcnie/pcsc.c), the one
# rule cnie-tool and cnied share, over the scripted winscard of pcsc.cmake.
cnie_unit(pcsc_select)
target_link_libraries(test_pcsc_select PRIVATE cnie_fake_winscard)
target_include_directories(test_pcsc_select PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
