# Precompiled headers (clang only: the `asan` preset) for the targets with many translation units:
# the standard headers nearly every file includes, plus nlohmann/json and GoogleTest where most of
# a target's files use them. clang loads a precompiled header almost for free (0.3 s for the
# standard headers and json, which take 2.6 s to parse); measured on seven files of the sanitizer
# build, paired, 99.5 -> 90.0 CPU-seconds, for ~3 s per target to build the header. CLI11 is left
# out: half its cost is the code of its namespace-scope validator objects, compiled in every file
# that sees the header, precompiled or not.
#
# Not gcc (the `default` preset): gcc 12 pays ~1 s to load a .gch of the same headers, which
# measured no faster overall on this project's files, and its -Warray-bounds false positives in
# <string> (silenced in a system header) escape through the .gch and fail -Werror.
# Included from the top level after every target exists; -DRITMA_PCH=OFF builds without them.
option(RITMA_PCH "Precompile the common headers of the larger targets (clang)" ON)
if(NOT RITMA_PCH OR NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  return()
endif()

set(RITMA_PCH_STD <algorithm> <array> <chrono> <cstdint> <cstdio> <cstdlib> <cstring>
                  <filesystem> <functional> <map> <memory> <optional> <set> <span> <string>
                  <string_view> <system_error> <utility> <vector>)
set(RITMA_PCH_JSON <nlohmann/json.hpp>)
set(RITMA_PCH_GTEST <gtest/gtest.h>)

function(ritma_precompile target)
  if(TARGET ${target})
    target_precompile_headers(${target} PRIVATE ${RITMA_PCH_STD} ${ARGN})
  endif()
endfunction()

ritma_precompile(ritma_core)
ritma_precompile(ritma_capture)
ritma_precompile(ritma_exec)
ritma_precompile(ritma_store)
ritma_precompile(ritma_seal)
ritma_precompile(ritma_sensor ${RITMA_PCH_JSON})
ritma_precompile(ritma_cli ${RITMA_PCH_JSON})
ritma_precompile(core_tests ${RITMA_PCH_GTEST})
ritma_precompile(interop_tests ${RITMA_PCH_GTEST})
ritma_precompile(seal_tests ${RITMA_PCH_GTEST} ${RITMA_PCH_JSON})
ritma_precompile(seal_cli_tests ${RITMA_PCH_GTEST} ${RITMA_PCH_JSON})
ritma_precompile(cli_tests ${RITMA_PCH_GTEST} ${RITMA_PCH_JSON})
ritma_precompile(exec_unit_tests ${RITMA_PCH_GTEST} ${RITMA_PCH_JSON})
