# Card sessions shared with other programs (issue 11; docs/card-profile.md
# 9, pkcs11/README.md "Login"): two clients on one in-process reference
# card with exact APDU counts, and several processes on one card through a
# private pcscd.
cnie_unit(card_share)
target_compile_definitions(test_card_share PRIVATE CNIE_BUILD_DIR="${PROJECT_BINARY_DIR}")
target_link_libraries(test_card_share PRIVATE PkgConfig::OPENSSL)
add_dependencies(test_card_share test_cards cnie_refcard)

# Through a private pcscd: two signing processes, a token lister and a
# plain PC/SC program moving the card's DF, no card movement: 0 failed
# operations; one process looping login/sign/logout while another signs.
add_executable(p11_coexist integration/p11_coexist.c)
target_include_directories(p11_coexist PRIVATE ${PROJECT_SOURCE_DIR}/pkcs11)
target_link_libraries(p11_coexist PRIVATE PkgConfig::P11KIT PkgConfig::OPENSSL PkgConfig::PCSC
  ${CMAKE_DL_LIBS})
add_dependencies(p11_coexist cnie-pkcs11)
foreach(t coexist logout restart)
  cnie_integration(p11_coexist_${t} ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
    $<TARGET_FILE:p11_coexist> $<TARGET_FILE:cnie-pkcs11> ${t})
endforeach()
# A card pulled while the PIN pad waits: CKR_DEVICE_REMOVED, not a failure code.
cnie_integration(p11_coexist_pinpad_removed ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  $<TARGET_FILE:p11_coexist> $<TARGET_FILE:cnie-pkcs11> pinpad_removed $<TARGET_FILE:cnie-sim>)

# Mid-exchange errors classified by the handle's status (src/libcnie/pcsc.c).
cnie_unit(pcsc_classify)
target_link_libraries(test_pcsc_classify PRIVATE cnie_fake_winscard)
target_include_directories(test_pcsc_classify PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)

# Chaos, short form for CI (bench/ has the long run): the card removed,
# inserted and reset at random every 50-500 ms for 12 s under two signing
# processes and a plain PC/SC reader: no crash, no hang, no wrong signature,
# no PIN try lost.
cnie_integration(p11_chaos ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  $<TARGET_FILE:p11_coexist> $<TARGET_FILE:cnie-pkcs11> chaos 12 $<TARGET_FILE:cnie-sim>)

# A long-lived NSS client (as Firefox) across a pcscd restart: the token
# back through the already-loaded module, login and a verified signature
# (tests/integration/nss_restart.c).  NSS: libnss3-dev
# (scripts/deps.d/coexist.sh); without it the test is a visible skip, a
# failure under CI=true.
pkg_check_modules(NSS IMPORTED_TARGET nss)
if(NSS_FOUND)
  add_executable(nss_restart integration/nss_restart.c)
  target_link_libraries(nss_restart PRIVATE PkgConfig::NSS PkgConfig::OPENSSL)
  add_dependencies(nss_restart cnie-pkcs11)
  cnie_integration(nss_restart ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
    $<TARGET_FILE:nss_restart> $<TARGET_FILE:cnie-pkcs11>)
else()
  cnie_integration(nss_restart bash -c
    ". '${CNIE_HARNESS}/skip.sh'; cnie_skip 'NSS headers not found at configure time (libnss3-dev)'")
endif()

# Every front end at once (tests/integration/desktop_mix.py): PKCS#11
# signers (p11_coexist worker), cnied on PC/SC authenticating (tokens
# checked with cnie-tool verify-token) and a cnie-tool info loop.
#   desktop_coexist  one card, no card movement, 15 s: 0 failed operations
#   desktop_chaos    two readers (EC and RSA card), random remove / insert /
#                    reset every 50-500 ms, pcscd restarted mid-run, 20 s:
#                    no crash, hang, wrong result or lost PIN try
# bench/run.d/desktop.sh runs both for longer (60 s, >= 1000 card events).
foreach(t coexist chaos)
  if(t STREQUAL coexist)
    set(_secs 15)
    set(_cards "ec - -")
  else()
    set(_secs 20)
    set(_cards "ec - rsa")
  endif()
  cnie_integration(desktop_${t} ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
    python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/desktop_mix.py ${t} ${_secs}
    $<TARGET_FILE:p11_coexist> $<TARGET_FILE:cnie-pkcs11> $<TARGET_FILE:cnied>
    $<TARGET_FILE:cnie-tool> $<TARGET_FILE:cnie-sim>)
  set_property(TEST integration.desktop_${t} APPEND PROPERTY ENVIRONMENT
    "CNIE_VIRTUAL_CARDS=${_cards}")
endforeach()
