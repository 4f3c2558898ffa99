# Run by `cmake --install` (install(CODE) in cmake/CnieInstall.cmake, which
# sets the CNIE_SYS_* and CMAKE_INSTALL_* variables first): installs the
# files whose directory, or content, depends on the prefix installed to.
# cmake/CnieInstall.cmake explains the choices.

cmake_policy(PUSH)
cmake_policy(VERSION 3.25)
set(_prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" _prefix "${_prefix}")
if(_prefix STREQUAL "/usr")
  set(_kind system)
elseif(_prefix STREQUAL "/usr/local")
  set(_kind local)
else()
  set(_kind other)
endif()

# _cnie_dir(OUT OVERRIDE SYSTEM LOCAL OTHER): the override if set
# (relative: under the prefix), else the choice for this kind of prefix.
function(_cnie_dir out override for_system for_local for_other)
  if(NOT "${override}" STREQUAL "")
    set(d "${override}")
  elseif(_kind STREQUAL "system")
    set(d "${for_system}")
  elseif(_kind STREQUAL "local")
    set(d "${for_local}")
  else()
    set(d "${for_other}")
  endif()
  if(NOT IS_ABSOLUTE "${d}")
    set(d "${_prefix}/${d}")
  endif()
  set(${out} "${d}" PARENT_SCOPE)
endfunction()

function(_cnie_abs out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${_prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

_cnie_abs(_libdir "${CMAKE_INSTALL_LIBDIR}")
_cnie_abs(_bindir "${CMAKE_INSTALL_BINDIR}")
_cnie_abs(_docdir "${CMAKE_INSTALL_DOCDIR}")
if(_kind STREQUAL "system")
  set(_sysconfdir /etc)
else()
  _cnie_abs(_sysconfdir "${CMAKE_INSTALL_SYSCONFDIR}")
endif()

# udev/CMakeLists.txt's old default ("lib/udev/rules.d") meant "automatic".
if(CNIE_UDEV_RULES_DIR STREQUAL "lib/udev/rules.d")
  set(CNIE_UDEV_RULES_DIR "")
endif()
_cnie_dir(_p11_dir "${CNIE_P11KIT_MODULE_CONFIG_DIR}" "${CNIE_SYS_P11_CONFIGS}"
  "${CNIE_SYS_P11_SYSCONF}" "${CMAKE_INSTALL_DATADIR}/p11-kit/modules")
_cnie_dir(_udev_dir "${CNIE_UDEV_RULES_DIR}" "${CNIE_SYS_UDEVDIR}/rules.d"
  /etc/udev/rules.d lib/udev/rules.d)
_cnie_dir(_user_units "${CNIE_SYSTEMD_USER_UNIT_DIR}" "${CNIE_SYS_SD_USER}"
  lib/systemd/user lib/systemd/user)
_cnie_dir(_system_units "${CNIE_SYSTEMD_SYSTEM_UNIT_DIR}" "${CNIE_SYS_SD_SYSTEM}"
  lib/systemd/system lib/systemd/system)

set(_gen "${PROJECT_BINARY_DIR}/install-gen")
file(MAKE_DIRECTORY "${_gen}")

# p11-kit module file: p11-kit resolves a bare name in its module path
# (p11_module_path); anywhere else the module is named by absolute path.
set(_module "${_libdir}/pkcs11/cnie-pkcs11.so")
file(READ "${PROJECT_SOURCE_DIR}/pkcs11/cnie.module" _text)
if(NOT "${_libdir}/pkcs11" STREQUAL "${CNIE_SYS_P11_PATH}")
  string(REGEX REPLACE "\nmodule: [^\n]*" "\nmodule: ${_module}" _text "${_text}")
endif()
file(WRITE "${_gen}/cnie.module" "${_text}")
file(INSTALL DESTINATION "${_p11_dir}" TYPE FILE FILES "${_gen}/cnie.module")

file(INSTALL DESTINATION "${_udev_dir}" TYPE FILE
  FILES "${PROJECT_SOURCE_DIR}/udev/70-cnie-readers.rules")

# systemd units of cnied, with the installed paths.
set(_units "${PROJECT_SOURCE_DIR}/src/cnied/systemd")
foreach(u cnied.service cnied.socket cnied-kiosk.service)
  if(NOT EXISTS "${_units}/${u}")
    continue()
  endif()
  file(READ "${_units}/${u}" _text)
  string(REPLACE "/usr/bin/cnied" "${_bindir}/cnied" _text "${_text}")
  string(REPLACE "/etc/cnied/" "${_sysconfdir}/cnied/" _text "${_text}")
  string(REPLACE "file:///usr/share/doc/cnie/bridge-api.md"
    "man:cnied(8) file://${_docdir}/bridge-api.md" _text "${_text}")
  string(REPLACE "file:///usr/share/doc/cnie/kiosk.md" "file://${_docdir}/kiosk.md"
    _text "${_text}")
  file(WRITE "${_gen}/${u}" "${_text}")
  if(u STREQUAL "cnied-kiosk.service")
    file(INSTALL DESTINATION "${_system_units}" TYPE FILE FILES "${_gen}/${u}")
  else()
    file(INSTALL DESTINATION "${_user_units}" TYPE FILE FILES "${_gen}/${u}")
  endif()
endforeach()

if(_kind STREQUAL "other")
  message(STATUS "cnie: the prefix ${_prefix} is not one the system reads by itself; "
    "to use this install system-wide link\n"
    "  ${_p11_dir}/cnie.module into /etc/pkcs11/modules/ (p11-kit)\n"
    "  ${_udev_dir}/70-cnie-readers.rules into /etc/udev/rules.d/\n"
    "  ${_user_units}/cnied.socket and cnied.service into /etc/systemd/user/\n"
    "(or configure with -DCMAKE_INSTALL_PREFIX=/usr, as packages do; README.md, \"Installing\")")
endif()
cmake_policy(POP)
