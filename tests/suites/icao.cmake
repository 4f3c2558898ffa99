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
