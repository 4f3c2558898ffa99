# The PKCS#11 module (pkcs11/, issue 5): unit tests of the error table and
# attribute rules, pkcs11-tool against the EC and RSA reference cards, and
# a C program that dlopen()s the module for the exact CKR codes, threads,
# slot events, resets, fork and the PIN pad.  Client interoperability
# (p11tool, OpenSSL engine, OpenSSH, NSS, p11-kit) is in pkcs11_clients.cmake.
set(P11_MODULE $<TARGET_FILE:cnie-pkcs11>)

cnie_unit(p11_units)
target_link_libraries(test_p11_units PRIVATE cnie_p11_obj)
target_include_directories(test_p11_units PRIVATE ${PROJECT_SOURCE_DIR}/pkcs11)

cnie_integration(p11_tool_ec ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/p11_tool.sh ${P11_MODULE} ec)
cnie_integration(p11_tool_rsa ${CMAKE_COMMAND} -E env "CNIE_VIRTUAL_CARDS=rsa - ec"
  ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/p11_tool.sh ${P11_MODULE} rsa)
add_dependencies(cnie-pkcs11 test_cards)

add_executable(p11_api integration/p11_api.c)
target_include_directories(p11_api PRIVATE ${PROJECT_SOURCE_DIR}/pkcs11)
target_link_libraries(p11_api PRIVATE PkgConfig::P11KIT PkgConfig::OPENSSL PkgConfig::PCSC
  Threads::Threads ${CMAKE_DL_LIBS} cnie_testutil)
add_dependencies(p11_api cnie-pkcs11 cnie-sim)
# Bad calls, attributes, interfaces, login, threads, events, reset,
# fork, PIN pad: one test each (p11_api MODULE CNIE-SIM TEST).
foreach(t before_init init_args bad_calls interfaces attributes sign_all
    wrong_pin blocked threads two_tokens events finalize_wakes reset fork pinpad
    removal contactless set_pin logout)
  cnie_integration(p11_api_${t} ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
    $<TARGET_FILE:p11_api> ${P11_MODULE} $<TARGET_FILE:cnie-sim> ${t})
endforeach()
# Every mechanism on the RSA card too.
cnie_integration(p11_api_sign_all_rsa ${CMAKE_COMMAND} -E env "CNIE_VIRTUAL_CARDS=rsa - ec"
  ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  $<TARGET_FILE:p11_api> ${P11_MODULE} $<TARGET_FILE:cnie-sim> sign_all)
# APDUs from C_Initialize to a verified signature, cold and warm cache,
# counted in pcscd's APDU log (figures printed for bench/).
cnie_integration(p11_api_apdu_count ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb
  --apdu-log -- $<TARGET_FILE:p11_api> ${P11_MODULE} $<TARGET_FILE:cnie-sim> apdu_count)

# The installed layout (cmake --install of pkcs11/) and the installed copy at work.
cnie_integration(p11_install ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/p11_install.sh ${PROJECT_BINARY_DIR})
