# Install layout that works from any prefix (README.md, "Installing").
#
# Where the system looks for p11-kit module files, udev rules and systemd
# units depends on the install prefix, and `cmake --install --prefix P`
# may change the prefix after configure: cmake/CnieInstallSystem.cmake
# picks the directories when it runs, from the prefix it installs to.
#   /usr        the directories pkg-config gives (p11-kit-1, udev, systemd)
#   /usr/local  the local administrator's: /etc/pkcs11/modules,
#               /etc/udev/rules.d, /usr/local/lib/systemd/{user,system}
#   any other   under the prefix (nothing outside it); the install step
#               says which links make the system read them
# The cache variables below (empty: automatic) override each choice; a
# relative value is taken under the prefix.
#
# Programs linking libcnie.so get a RUNPATH ($ORIGIN-relative) unless the
# library directory is one the dynamic linker searches without
# configuration.  libcnie.pc and a CMake package (find_package(cnie),
# target cnie::cnie) describe the installed library.  The systemd user
# preset that enables cnied.socket is the distribution's (debian/).
include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

set(CNIE_P11KIT_MODULE_CONFIG_DIR "" CACHE STRING
  "p11-kit module file directory (empty: from the prefix; relative: under it)")
set(CNIE_SYSTEMD_USER_UNIT_DIR "" CACHE STRING
  "systemd user unit directory (empty: from the prefix; relative: under it)")
set(CNIE_SYSTEMD_SYSTEM_UNIT_DIR "" CACHE STRING
  "systemd system unit directory (empty: from the prefix; relative: under it)")
# CNIE_UDEV_RULES_DIR is declared in udev/CMakeLists.txt.

function(_cnie_pkg_variable out module var fallback)
  set(v "")
  if(PKG_CONFIG_EXECUTABLE)
    execute_process(COMMAND ${PKG_CONFIG_EXECUTABLE} --variable=${var} ${module}
      OUTPUT_VARIABLE v OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
      RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      set(v "")
    endif()
  endif()
  if(v STREQUAL "")
    set(v "${fallback}")
  endif()
  set(${out} "${v}" PARENT_SCOPE)
endfunction()

# The system's directories (used when the prefix is /usr).
_cnie_pkg_variable(_p11_configs p11-kit-1 p11_module_configs /usr/share/p11-kit/modules)
_cnie_pkg_variable(_p11_path p11-kit-1 p11_module_path
  /usr/${CMAKE_INSTALL_LIBDIR}/pkcs11)
# The administrator's module files: ${sysconfdir}/pkcs11/modules
# (pkcs11.conf(5); Debian's p11_system_config_modules variable names the
# packaged directory instead).
_cnie_pkg_variable(_p11_etc p11-kit-1 sysconfdir /etc)
set(_p11_sysconf "${_p11_etc}/pkcs11/modules")
_cnie_pkg_variable(_sd_user systemd systemduserunitdir /usr/lib/systemd/user)
_cnie_pkg_variable(_sd_system systemd systemdsystemunitdir /lib/systemd/system)
# udev.pc comes with the udev package, which a build machine may lack:
# systemd.pc's root prefix says the same (/lib on Debian 12).
get_filename_component(_sd_root "${_sd_system}" DIRECTORY)
get_filename_component(_sd_root "${_sd_root}" DIRECTORY)
get_filename_component(_sd_root "${_sd_root}" DIRECTORY)
if(_sd_root STREQUAL "/")
  set(_sd_root "")
endif()
_cnie_pkg_variable(_udevdir udev udevdir "${_sd_root}/lib/udev")

# RUNPATH: $ORIGIN-relative, only where ld.so would not find libcnie.
set(_cnie_libdir_abs "${CMAKE_INSTALL_FULL_LIBDIR}")
set(_cnie_system_libdir OFF)
foreach(d ${CMAKE_C_IMPLICIT_LINK_DIRECTORIES} ${CMAKE_PLATFORM_IMPLICIT_LINK_DIRECTORIES})
  if(d STREQUAL _cnie_libdir_abs)
    set(_cnie_system_libdir ON)
  endif()
endforeach()
function(_cnie_collect_targets out dir)
  get_property(ts DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(s ${subs})
    _cnie_collect_targets(more ${s})
    list(APPEND ts ${more})
  endforeach()
  set(${out} ${ts} PARENT_SCOPE)
endfunction()
if(NOT _cnie_system_libdir)
  file(RELATIVE_PATH _cnie_bin_to_lib "${CMAKE_INSTALL_FULL_BINDIR}" "${_cnie_libdir_abs}")
  _cnie_collect_targets(_cnie_targets ${PROJECT_SOURCE_DIR})
  foreach(t ${_cnie_targets})
    # Programs that link libcnie.so.  Libraries need none: the PKCS#11
    # module and the IFD handler link libcnie statically, and libcnie
    # finds what it dlopen()s in its own directory.
    get_target_property(type ${t} TYPE)
    get_target_property(libs ${t} LINK_LIBRARIES)
    if(type STREQUAL "EXECUTABLE" AND "cnie" IN_LIST libs)
      set_target_properties(${t} PROPERTIES INSTALL_RPATH "$ORIGIN/${_cnie_bin_to_lib}")
    endif()
  endforeach()
endif()

# cnie-tool register finds the installed module beside its own
# installation (nssdb.c), else in p11-kit's module directory.
if(TARGET cnie-tool)
  file(RELATIVE_PATH _cnie_module_rel "${CMAKE_INSTALL_FULL_BINDIR}"
    "${CMAKE_INSTALL_FULL_LIBDIR}/pkcs11/cnie-pkcs11.so")
  set_property(SOURCE ${PROJECT_SOURCE_DIR}/tools/cnie-tool/nssdb.c
    TARGET_DIRECTORY cnie-tool APPEND PROPERTY COMPILE_DEFINITIONS
    "CNIE_TOOL_MODULE_REL=\"${_cnie_module_rel}\""
    "CNIE_TOOL_P11_MODULE_DIR=\"${_p11_path}\"")
endif()

# The directory-dependent files: installed by a script that decides from
# the prefix it installs to.
set(_cnie_sys_vars "")
foreach(v P11_CONFIGS P11_PATH P11_SYSCONF SD_USER SD_SYSTEM UDEVDIR)
  string(TOLOWER "_${v}" lv)
  string(APPEND _cnie_sys_vars "set(CNIE_SYS_${v} \"${${lv}}\")\n")
endforeach()
foreach(v CNIE_P11KIT_MODULE_CONFIG_DIR CNIE_SYSTEMD_USER_UNIT_DIR CNIE_SYSTEMD_SYSTEM_UNIT_DIR
    CNIE_UDEV_RULES_DIR CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_BINDIR
    CMAKE_INSTALL_DATADIR CMAKE_INSTALL_DOCDIR CMAKE_INSTALL_SYSCONFDIR
    CMAKE_INSTALL_LOCALSTATEDIR PROJECT_SOURCE_DIR PROJECT_BINARY_DIR)
  string(APPEND _cnie_sys_vars "set(${v} \"${${v}}\")\n")
endforeach()
install(CODE "${_cnie_sys_vars}include(\"${CMAKE_CURRENT_LIST_DIR}/CnieInstallSystem.cmake\")")

# The bridge API and the kiosk guide the units name as their documentation,
# and the documented example of cnied's config file (docs/kiosk.md).
install(FILES ${PROJECT_SOURCE_DIR}/docs/bridge-api.md ${PROJECT_SOURCE_DIR}/docs/kiosk.md
  ${PROJECT_SOURCE_DIR}/etc/cnied.conf.example DESTINATION ${CMAKE_INSTALL_DOCDIR})

# pkg-config: libcnie.pc.  The installed headers include only the C
# library's and each other, and only libcnie.so is installed: its own
# dependencies are the dynamic linker's business, not the -dev package's
# (no Requires.private, which pkg-config would insist on finding).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CNIE_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(CNIE_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(CNIE_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(CNIE_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(CNIE_PC_PREFIX "@CNIE_INSTALL_PREFIX@")
configure_file(${CMAKE_CURRENT_LIST_DIR}/libcnie.pc.in ${PROJECT_BINARY_DIR}/libcnie.pc.tmpl @ONLY)
# The prefix line is written when installing (cmake --install --prefix).
install(CODE "file(READ \"${PROJECT_BINARY_DIR}/libcnie.pc.tmpl\" _pc)
  string(REPLACE \"@CNIE_INSTALL_PREFIX@\" \"\${CMAKE_INSTALL_PREFIX}\" _pc \"\${_pc}\")
  file(WRITE \"${PROJECT_BINARY_DIR}/pc-install/libcnie.pc\" \"\${_pc}\")")
install(FILES ${PROJECT_BINARY_DIR}/pc-install/libcnie.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake package: cnieConfig.cmake defines the imported target cnie::cnie
# from the files it finds relative to itself.
set(CNIE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cnie)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/cnieConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cnieConfig.cmake
  INSTALL_DESTINATION ${CNIE_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cnieConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cnieConfig.cmake
  ${PROJECT_BINARY_DIR}/cnieConfigVersion.cmake DESTINATION ${CNIE_CMAKE_DIR})
