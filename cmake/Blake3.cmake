# BLAKE3 from the official C sources that Debian's librust-blake3-dev installs. Nothing is
# copied into this repository; the sources are compiled in place with the SIMD variants
# (SSE2, SSE4.1, AVX2, AVX-512 assembly) and the library's runtime CPU dispatch.
file(GLOB RITMA_BLAKE3_DIRS LIST_DIRECTORIES true "/usr/share/cargo/registry/blake3-*/c")
list(SORT RITMA_BLAKE3_DIRS COMPARE NATURAL ORDER DESCENDING)
list(GET RITMA_BLAKE3_DIRS 0 BLAKE3_C_DIR)
if(NOT EXISTS "${BLAKE3_C_DIR}/blake3.h")
  message(FATAL_ERROR "BLAKE3 C sources not found; run scripts/setup.sh (librust-blake3-dev)")
endif()
message(STATUS "BLAKE3 C sources: ${BLAKE3_C_DIR}")

set(BLAKE3_SOURCES ${BLAKE3_C_DIR}/blake3.c ${BLAKE3_C_DIR}/blake3_dispatch.c
                   ${BLAKE3_C_DIR}/blake3_portable.c)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  list(APPEND BLAKE3_SOURCES
       ${BLAKE3_C_DIR}/blake3_sse2_x86-64_unix.S ${BLAKE3_C_DIR}/blake3_sse41_x86-64_unix.S
       ${BLAKE3_C_DIR}/blake3_avx2_x86-64_unix.S ${BLAKE3_C_DIR}/blake3_avx512_x86-64_unix.S)
  set(BLAKE3_DEFS)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  list(APPEND BLAKE3_SOURCES ${BLAKE3_C_DIR}/blake3_neon.c)
  set(BLAKE3_DEFS BLAKE3_USE_NEON=1)
else()
  set(BLAKE3_DEFS BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512)
endif()
add_library(blake3_c STATIC ${BLAKE3_SOURCES})
target_include_directories(blake3_c SYSTEM PUBLIC ${BLAKE3_C_DIR})
target_compile_definitions(blake3_c PRIVATE ${BLAKE3_DEFS})
target_compile_options(blake3_c PRIVATE $<$<COMPILE_LANGUAGE:C>:-O3>)
set_target_properties(blake3_c PROPERTIES POSITION_INDEPENDENT_CODE ON)
