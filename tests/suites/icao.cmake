# ICAO application (libcnie): the secure messaging transport and the
# identity application reader (PACE/BAC, LDS reads, AA, CA).
cnie_unit(sm_transport)
cnie_unit(icao)
foreach(t sm_transport icao)
  add_dependencies(test_${t} test_cards)
  set_tests_properties(unit.${t} PROPERTIES
    ENVIRONMENT "CNIE_BUILD_DIR=${PROJECT_BINARY_DIR}")
endforeach()

# The same reader through a private pcscd and the virtual readers (EC card).
set(ICAO_WITH_PCSCD ${CNIE_HARNESS}/with-pcscd)
cnie_integration(icao_pcsc_contact ${ICAO_WITH_PCSCD} --virtual --hide-usb --
  $<TARGET_FILE:test_icao> pcsc "Virtual Contact" contact)
cnie_integration(icao_pcsc_contactless ${ICAO_WITH_PCSCD} --virtual --hide-usb --
  sh -c "\"$1\" --reader 1 insert \"$2\" && exec \"$3\" pcsc \"Virtual Contactless\" contactless"
  sh $<TARGET_FILE:cnie-sim> ${PROJECT_BINARY_DIR}/cards/ec $<TARGET_FILE:test_icao>)

# A chip that answers errors with a plain status word and ends the session
# (card.json "icao.plain_errors": "end"), DG3/DG4 refused, a 40 KB DG5:
# made by test_icao itself from the EC card, read end to end through pcscd.
cnie_integration(icao_pcsc_plain_errors ${ICAO_WITH_PCSCD} --virtual --hide-usb --
  sh -c "\"$1\" variant end \"$2\" && \"$3\" --reader 1 insert \"$2\" && exec \"$1\" pcsc-plain-end \"Virtual Contactless\""
  sh $<TARGET_FILE:test_icao> ${PROJECT_BINARY_DIR}/cards-plain-end-pcsc $<TARGET_FILE:cnie-sim>)

# cnie-tool identity on variants (in process): each MRZ layout through
# --mrz-stdin, and exit 4 for a wrong CAN/MRZ whatever word the chip uses.
cnie_integration(icao_tool_variants ${CNIE_HARNESS}/with-pcscd --no-pcscd --
  ${PROJECT_SOURCE_DIR}/tests/integration/icao_tool_variants.sh $<TARGET_FILE:test_icao>
  $<TARGET_FILE:cnie-tool> ${PROJECT_BINARY_DIR}/icao-tool-variants ${PROJECT_BINARY_DIR})

# cnie-tool identity on integrated-mapping and chip-authentication-mapping
# variants (in process).
cnie_integration(icao_tool_pace_mappings ${CNIE_HARNESS}/with-pcscd --no-pcscd --
  ${PROJECT_SOURCE_DIR}/tests/integration/icao_tool_pace_mappings.sh $<TARGET_FILE:test_icao>
  $<TARGET_FILE:cnie-tool> ${PROJECT_BINARY_DIR}/icao-tool-pace-mappings)

# PACE variants through pcscd, one each (no ';' in the script: it would split
# the CMake list): several PACEInfos (IM, CAM, an unknown mapping and
# GM-ECDH-AES128: the library picks CAM), CAM-AES256 beside GM (the chip
# then authenticated by CAM with DG14's key), IM-ECDH-AES128 alone, GM over DH (1024-bit MODP,
# parameterId 0, AES-128: a 2048-bit DH key needs extended length, which the
# virtual contactless reader does not offer), GM-ECDH-AES256 on NIST P-384.
foreach(v "several;4 2 13 6 2 13 5 2 13 2 2 13" "cam;2 2 13 6 4 13" "im_ecdh;4 2 13"
    "gm_dh;1 2 0" "gm_ecdh_aes256;2 4 15")
  list(GET v 0 _name)
  list(GET v 1 _infos)
  cnie_integration(icao_pcsc_pace_${_name} ${ICAO_WITH_PCSCD} --virtual --hide-usb --
    sh -c "\"$1\" variant-pace \"$2\" $4 && \"$3\" --reader 1 insert \"$2\" && exec \"$1\" pcsc-pace \"Virtual Contactless\""
    sh $<TARGET_FILE:test_icao> ${PROJECT_BINARY_DIR}/cards-pace-pcsc-${_name} $<TARGET_FILE:cnie-sim> ${_infos})
endforeach()

# The passport profile (tests/cards/passport.json: TD3 MRZ in DG1), its own
# PKI directory so that it never races the standard cards' shared one.
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/cards-passport/passport/card.json
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/cards-passport
  COMMAND cnie-perso --desc ${PROJECT_SOURCE_DIR}/tests/cards/passport.json
          --out ${PROJECT_BINARY_DIR}/cards-passport/passport
          --pki-out ${PROJECT_BINARY_DIR}/cards-passport/pki --force
  DEPENDS cnie-perso ${PROJECT_SOURCE_DIR}/tests/cards/passport.json
  COMMENT "Personalising test card passport"
  VERBATIM)
add_custom_target(test_card_passport ALL
  DEPENDS ${PROJECT_BINARY_DIR}/cards-passport/passport/card.json)
add_dependencies(test_icao test_card_passport)

# A card whose Chip Authentication key is DH (tests/cards/dhca.json, DG14
# with id-CA-DH-AES-CBC-CMAC-128), its own PKI directory as the passport.
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/cards-dhca/dhca/card.json
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/cards-dhca
  COMMAND cnie-perso --desc ${PROJECT_SOURCE_DIR}/tests/cards/dhca.json
          --out ${PROJECT_BINARY_DIR}/cards-dhca/dhca
          --pki-out ${PROJECT_BINARY_DIR}/cards-dhca/pki --force
  DEPENDS cnie-perso ${PROJECT_SOURCE_DIR}/tests/cards/dhca.json
  COMMENT "Personalising test card dhca"
  VERBATIM)
add_custom_target(test_card_dhca ALL
  DEPENDS ${PROJECT_BINARY_DIR}/cards-dhca/dhca/card.json)
add_dependencies(test_icao test_card_dhca)
