# Helpers shared by every folder's CMakeLists.txt.
#
#   agora_library(<name> SOURCES ... [DEPS ...])
#       static library agora_<name>; its one public header is <name>/<name>.h,
#       included as "name/name.h" (the source root is on the include path).
#   agora_program(<name> SOURCES ... [DEPS ...])
#       executable build/bin/<name>.
#   agora_test(<name> TIER <unit|host|cluster|vm-guest> SOURCES ... [DEPS ...])
#       criterion test binary registered with ctest under the tier's label.
#   agora_script_test(<name> TIER <tier> COMMAND ...)
#       a test that is a script or an existing program.
#
# Every test runs through tests/lib/tier-guard, which checks that the host
# can run the tier (root, namespaces, the VM) and otherwise exits 77 (ctest's
# "skipped") with the reason; with CI=true a skip is turned into a failure.

set(AGORA_TIER_GUARD ${CMAKE_SOURCE_DIR}/tests/lib/tier-guard)

function(agora_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(agora_${name} STATIC ${A_SOURCES})
  target_include_directories(agora_${name} PUBLIC ${CMAKE_SOURCE_DIR})
  if(A_DEPS)
    target_link_libraries(agora_${name} PUBLIC ${A_DEPS})
  endif()
endfunction()

function(agora_program name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR})
  if(A_DEPS)
    target_link_libraries(${name} PRIVATE ${A_DEPS})
  endif()
endfunction()

function(_agora_register_test name tier)
  set_tests_properties(${name} PROPERTIES
    LABELS ${tier}
    SKIP_RETURN_CODE 77
    ENVIRONMENT "AGORA_SOURCE_DIR=${CMAKE_SOURCE_DIR};AGORA_BUILD_DIR=${CMAKE_BINARY_DIR}")
endfunction()

function(agora_test name)
  cmake_parse_arguments(A "" "TIER;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  set(exe test_${name})
  add_executable(${exe} ${A_SOURCES})
  set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_include_directories(${exe} PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/tests/lib)
  target_link_libraries(${exe} PRIVATE PkgConfig::CRITERION ${A_DEPS})
  # Criterion forks a process per test; a test of the kernel gets a clean
  # process each time. --always-succeed is never used: failures must show.
  add_test(NAME ${A_TIER}.${name}
           COMMAND ${AGORA_TIER_GUARD} ${A_TIER} $<TARGET_FILE:${exe}> --verbose=0)
  _agora_register_test(${A_TIER}.${name} ${A_TIER})
  if(A_TIMEOUT)
    set_tests_properties(${A_TIER}.${name} PROPERTIES TIMEOUT ${A_TIMEOUT})
  endif()
endfunction()

function(agora_script_test name)
  cmake_parse_arguments(A "" "TIER;TIMEOUT" "COMMAND" ${ARGN})
  add_test(NAME ${A_TIER}.${name} COMMAND ${AGORA_TIER_GUARD} ${A_TIER} ${A_COMMAND})
  _agora_register_test(${A_TIER}.${name} ${A_TIER})
  if(A_TIMEOUT)
    set_tests_properties(${A_TIER}.${name} PROPERTIES TIMEOUT ${A_TIMEOUT})
  endif()
endfunction()
