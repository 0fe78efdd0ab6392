# Helpers shared by every folder's CMakeLists.txt.
#
#   agora_library(<name> SOURCES ... [DEPS ...])
#       static library agora_<name>; its one public header is <name>/<name>.h,
#       included as "name/name.h" (the source root is on the include path).
#   agora_program(<name> SOURCES ... [DEPS ...])
#       executable build/bin/<name>.
#   agora_test(<name> TIER <unit|host|cluster|vm-guest> [TIMEOUT secs]
#              SOURCES ... [DEPS ...])
#       criterion test binary registered with ctest under the tier's label.
#   agora_script_test(<name> TIER <tier> [TIMEOUT secs] COMMAND ...)
#       a test that is a script or an existing program.
#
# Every test runs through tests/lib/tier-guard, which checks that the host
# can run the tier (root, namespaces, the VM) and otherwise exits 77 (ctest's
# "skipped") with the reason; with CI=true a skip is turned into a failure.
#
# No test can hang silently: every test has a TIMEOUT of at most
# AGORA_TEST_TIMEOUT_MAX (300 s; AGORA_TEST_TIMEOUT_DEFAULT, 60 s, when none
# is given), and runs under tests/lib/watchdog.c (test-watchdog), whose
# deadline comes a little before ctest's: at it, the watchdog prints the
# test's process tree (state, wchan, kernel stacks) and the kernel log's
# tail, then kills the tree, where ctest would kill without a word. It also
# fails a test that exits leaving processes running.
#
# A vm-guest test is also registered on the host as vm.<name>: one test VM
# (tests/vm/vm-run) booted for it alone, with the guest test's TIMEOUT and
# a boot timeout (AGORA_VM_BOOT_TIMEOUT) inside the host test's.

set(AGORA_TIER_GUARD ${CMAKE_SOURCE_DIR}/tests/lib/tier-guard)
set(AGORA_TEST_TIMEOUT_MAX 300)
set(AGORA_TEST_TIMEOUT_DEFAULT 60)
# A TCG guest boots in 5-30 s, but took 65-86 s with the host's two cores
# loaded by stress-ng and several VMs (the soak, scripts/soak): 60 s failed
# whole vm-tier runs with "the guest did not boot".
set(AGORA_VM_BOOT_TIMEOUT 90)

# The deadline the watchdog gets for a ctest TIMEOUT: early enough to print
# and kill before ctest's own kill.
function(_agora_watchdog_secs timeout out)
  math(EXPR secs "${timeout} - ${timeout} / 10 - 3")
  set(${out} ${secs} PARENT_SCOPE)
endfunction()

function(_agora_check_timeout name timeout)
  if(NOT timeout MATCHES "^[1-9][0-9]*$" OR timeout GREATER AGORA_TEST_TIMEOUT_MAX
     OR timeout LESS 10)
    message(FATAL_ERROR "test ${name}: TIMEOUT '${timeout}' must be whole seconds from 10 to "
                        "${AGORA_TEST_TIMEOUT_MAX}: no test may run longer; split it")
  endif()
endfunction()

# add_test with the watchdog around the tier guard, and the test's TIMEOUT.
function(_agora_add_test name tier timeout)
  _agora_check_timeout(${name} ${timeout})
  _agora_watchdog_secs(${timeout} secs)
  add_test(NAME ${name}
           COMMAND $<TARGET_FILE:test-watchdog> --name ${name} ${secs}
                   ${AGORA_TIER_GUARD} ${tier} ${ARGN})
  _agora_register_test(${name} ${tier})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${timeout})
  if(tier STREQUAL "vm-guest")
    _agora_add_vm_test(${name} ${timeout})
  endif()
endfunction()

# vm.<name> on the host for the guest test vm-guest.<name>: vm-run allows
# the boot AGORA_VM_BOOT_TIMEOUT s and the guest command the guest test's
# TIMEOUT and a margin; the host test's TIMEOUT holds both, and its watchdog
# fires only when vm-run itself did not stop in time.
function(_agora_add_vm_test guest_name guest_timeout)
  string(REGEX REPLACE "^vm-guest\\." "" short ${guest_name})
  math(EXPR run "${guest_timeout} + 10")
  math(EXPR secs "${run} + ${AGORA_VM_BOOT_TIMEOUT} + 20")
  math(EXPR timeout "${secs} + 5")
  if(timeout GREATER AGORA_TEST_TIMEOUT_MAX)
    math(EXPR most "${guest_timeout} + ${AGORA_TEST_TIMEOUT_MAX} - ${timeout}")
    message(FATAL_ERROR "test ${guest_name}: TIMEOUT ${guest_timeout} leaves no room for the "
                        "VM's boot within ${AGORA_TEST_TIMEOUT_MAX} s; at most ${most}")
  endif()
  add_test(NAME vm.${short}
           COMMAND $<TARGET_FILE:test-watchdog> --name vm.${short} ${secs}
                   ${AGORA_TIER_GUARD} vm ${CMAKE_SOURCE_DIR}/tests/vm/vm-run
                   --boot-timeout ${AGORA_VM_BOOT_TIMEOUT} --timeout ${run} --
                   ${CMAKE_SOURCE_DIR}/tests/vm/guest-ctest ${CMAKE_BINARY_DIR} ${guest_name})
  _agora_register_test(vm.${short} vm)
  set_tests_properties(vm.${short} PROPERTIES TIMEOUT ${timeout})
endfunction()

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
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT ${AGORA_TEST_TIMEOUT_DEFAULT})
  endif()
  _agora_add_test(${A_TIER}.${name} ${A_TIER} ${A_TIMEOUT} $<TARGET_FILE:${exe}> --verbose=0)
endfunction()

function(agora_script_test name)
  cmake_parse_arguments(A "" "TIER;TIMEOUT" "COMMAND" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT ${AGORA_TEST_TIMEOUT_DEFAULT})
  endif()
  _agora_add_test(${A_TIER}.${name} ${A_TIER} ${A_TIMEOUT} ${A_COMMAND})
endfunction()
