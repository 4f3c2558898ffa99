# Dependencies through pkg-config.  A missing one stops configure and names
# the Debian package that provides it.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

function(cnie_require prefix module debian_package)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR
      "Missing dependency '${module}': install the Debian package ${debian_package}\n"
      "  (as root: apt-get install ${debian_package}; or run scripts/test, which installs it)")
  endif()
  message(STATUS "Found ${module} ${${prefix}_VERSION}")
endfunction()

cnie_require(PCSC libpcsclite libpcsclite-dev)
cnie_require(OPENSSL "openssl>=3.0" libssl-dev)
cnie_require(EAC libeac libeac-dev)
cnie_require(LIBUSB libusb-1.0 libusb-1.0-0-dev)
cnie_require(JANSSON jansson libjansson-dev)
cnie_require(LIBEVENT "libevent>=2.1" libevent-dev)
cnie_require(LIBEVENT_OPENSSL libevent_openssl libevent-dev)
cnie_require(LIBEVENT_PTHREADS libevent_pthreads libevent-dev)
cnie_require(ASSUAN libassuan libassuan-dev)
cnie_require(LIBJPEG libjpeg libjpeg62-turbo-dev)
cnie_require(P11KIT p11-kit-1 libp11-kit-dev)
cnie_require(OPENJP2 libopenjp2 libopenjp2-7-dev)
cnie_require(LIBPNG libpng libpng-dev)
if(CNIE_BUILD_TESTS)
  cnie_require(CMOCKA cmocka libcmocka-dev)
endif()
find_package(Threads REQUIRED)
