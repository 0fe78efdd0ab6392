agora_test(cgroupv2_guest TIER vm-guest TIMEOUT 120 SOURCES ${CMAKE_CURRENT_LIST_DIR}/cgroupv2_guest.c DEPS agora_cgroupv2)
