# Compiler warnings and hardening, each flag probed (docs/architecture.md, "Conventions").
include(CheckCCompilerFlag)
include(CheckLinkerFlag)

set(CNIE_WARNINGS
  -Wall -Wextra -Wshadow -Wformat=2 -Wformat-security -Wcast-qual
  -Wwrite-strings -Wmissing-prototypes -Wstrict-prototypes
  -Wimplicit-fallthrough -Wpointer-arith -Wundef -Wvla
  -Wnull-dereference -Wdouble-promotion -Wmissing-declarations
  -Wold-style-definition -Wno-unused-parameter)
foreach(flag ${CNIE_WARNINGS})
  string(MAKE_C_IDENTIFIER "HAVE_FLAG${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    add_compile_options(${flag})
  endif()
endforeach()
if(CNIE_WERROR)
  add_compile_options(-Werror)
endif()

# Hardening.
foreach(flag -fstack-protector-strong -fstack-clash-protection -fcf-protection)
  string(MAKE_C_IDENTIFIER "HAVE_FLAG${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    add_compile_options(${flag})
  endif()
endforeach()
if(NOT CNIE_SANITIZE AND NOT CNIE_FUZZ)
  # _FORTIFY_SOURCE needs optimisation; skip it for -O0 debug builds.
  add_compile_options($<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE> $<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
endif()
foreach(flag -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack)
  string(MAKE_C_IDENTIFIER "HAVE_LFLAG${flag}" var)
  check_linker_flag(C ${flag} ${var})
  if(${var})
    add_link_options(${flag})
  endif()
endforeach()
check_linker_flag(C -pie HAVE_LFLAG_PIE)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
include(CheckPIESupported)
check_pie_supported()

if(CNIE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(CNIE_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CNIE_FUZZ needs clang: configure with CC=clang")
  endif()
  # Instrument everything for coverage; harnesses link -fsanitize=fuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
