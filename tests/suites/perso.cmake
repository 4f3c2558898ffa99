# cnie-perso (tools/perso): unit tests, and the standard test cards
# generated at build time into ${PROJECT_BINARY_DIR}/cards/<name>/, with
# the shared test PKI in ${PROJECT_BINARY_DIR}/cards/pki/.

cnie_unit(perso)
target_link_libraries(test_perso PRIVATE cnie_perso)

set(CNIE_TEST_CARDS ec rsa expired blocked)
set(CNIE_CARDS_DIR ${PROJECT_BINARY_DIR}/cards)
set(_cnie_card_outputs)
foreach(card ${CNIE_TEST_CARDS})
  set(_desc ${PROJECT_SOURCE_DIR}/tests/cards/${card}.json)
  add_custom_command(
    OUTPUT ${CNIE_CARDS_DIR}/${card}/card.json
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CNIE_CARDS_DIR}
    COMMAND cnie-perso --desc ${_desc} --out ${CNIE_CARDS_DIR}/${card}
            --pki-out ${CNIE_CARDS_DIR}/pki --force
    DEPENDS cnie-perso ${_desc}
    COMMENT "Personalising test card ${card}"
    VERBATIM)
  list(APPEND _cnie_card_outputs ${CNIE_CARDS_DIR}/${card}/card.json)
endforeach()
add_custom_target(test_cards ALL DEPENDS ${_cnie_card_outputs})

# The command line: same description twice -> identical directories.
add_test(NAME perso.cli-deterministic
  COMMAND sh -c "d=$(mktemp -d) && trap 'rm -rf \"$d\"' EXIT && \"$0\" --desc \"$1\" --out \"$d/a\" && \"$0\" --desc \"$1\" --out \"$d/b\" && diff -r \"$d/a\" \"$d/b\""
          $<TARGET_FILE:cnie-perso> ${PROJECT_SOURCE_DIR}/tests/cards/rsa.json)
# Errors name the file and the field; exit status 1, usage errors 2.
add_test(NAME perso.cli-missing-desc
  COMMAND sh -c "\"$0\" --desc /nonexistent.json --out /tmp/x 2>&1; test $? -eq 1"
          $<TARGET_FILE:cnie-perso>)
set_tests_properties(perso.cli-missing-desc PROPERTIES
  PASS_REGULAR_EXPRESSION "cnie-perso: /nonexistent.json: /nonexistent.json: cannot open")
add_test(NAME perso.cli-usage COMMAND sh -c "\"$0\" --bogus 2>/dev/null; test $? -eq 2"
          $<TARGET_FILE:cnie-perso>)
# The generated standard cards verify with OpenSSL's command line.
add_test(NAME perso.cards-verify
  COMMAND sh -c "set -e; for c in ec rsa blocked; do openssl x509 -inform DER -in \"$0/$c/files/3F00-A001-4331\" -out \"$0/$c.auth.pem\"; openssl verify -attime 1767225600 -CAfile \"$0/pki/citizen-ca.pem\" \"$0/$c.auth.pem\"; rm -f \"$0/$c.auth.pem\"; done; openssl verify -attime 1767225600 -CAfile \"$0/pki/csca.pem\" \"$0/pki/ds.pem\"; test -f \"$0/blocked/state.json\"; test ! -e \"$0/ec/state.json\""
          ${CNIE_CARDS_DIR})
set_tests_properties(perso.cli-deterministic perso.cli-missing-desc perso.cli-usage
  perso.cards-verify PROPERTIES LABELS unit TIMEOUT 120)

# The description parser on arbitrary bytes.
cnie_fuzz(perso_desc cnie_perso)
