# Soak and fault-injection tools and tests (tests/faults/, tests/soak/,
# scripts/soak). Included at the end of the root CMakeLists.txt.
#
#   fb-impair        tests/faults/impair.c   user-space netem between two TUN
#                                            devices in two network namespaces
#                                            (this kernel has no sch_netem)
#   fb-flowgap       tests/faults/flowgap.c  gaps in the bridge's outgoing RTP streams
#   fb-fault-client  tests/faults/fault_client.c  WebRTC participants that reconnect
#                                            like the delegate page (restart test)
#   fb-junk-flood    tests/faults/junk_flood.c  junk UDP at the media port
#
# Not in the fuzz build: these are test tools, not parsers of outside bytes.
if(FB_FUZZ)
  return()
endif()

add_executable(fb-impair tests/faults/impair.c)
set_target_properties(fb-impair PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

# fb-flowgap: the bridge's outgoing RTP streams at its interfaces (AF_PACKET,
# kernel timestamps): gaps between packets of one stream, skipped sequence
# numbers. What "no gap > 60 ms" is judged on in scripts/soak.
add_executable(fb-flowgap tests/faults/flowgap.c)
set_target_properties(fb-flowgap PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

add_executable(fb-fault-client tests/faults/fault_client.c)
target_include_directories(fb-fault-client PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(fb-fault-client PRIVATE fbclient fbtoken fbutil Threads::Threads m)
set_target_properties(fb-fault-client PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

add_executable(fb-junk-flood tests/faults/junk_flood.c)
set_target_properties(fb-junk-flood PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

# The fault tests (label "faults"; scripts/test --soak runs them with
# scripts/soak --ci, the other stages leave them out). Python 3 (stdlib)
# drives real processes: the bridge, floorbridge-load, fb-fault-client. Each
# runs on loopback inside a private network namespace when `unshare -n` is
# allowed (tests/e2e/netns.sh), as the browser tests do.
#   fault_vanish   clients killed (-9) and frozen: removed, chair told, audited
#   fault_restart  SIGKILL + restart on the same ports and store: state back, clients back < 5 s
#   fault_flood    junk UDP, WebSocket and slowloris floods during a meeting
#   fault_burst    200 joins then 200 leaves at once while 8 speakers talk: no stall, no gap
# (the floor source failing is test_floor_failure, tests/integration/)
find_package(Python3 COMPONENTS Interpreter)
foreach(name vanish restart flood burst)
  add_test(NAME fault_${name}
    COMMAND sh ${CMAKE_SOURCE_DIR}/tests/e2e/netns.sh ${Python3_EXECUTABLE}
            ${CMAKE_SOURCE_DIR}/tests/faults/${name}.py)
  set_tests_properties(fault_${name} PROPERTIES
    ENVIRONMENT "FB_BUILD_DIR=${CMAKE_BINARY_DIR}"
    TIMEOUT 240
    RUN_SERIAL TRUE
    LABELS faults)
endforeach()
