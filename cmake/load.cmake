# floorbridge-load — the load tool (load/): N WebRTC participants joining
# like browsers (lws WebSocket client, tokens, SDP, the fbclient WebRTC
# client), S speakers with a marked signal, listeners checking continuity
# and latency, bridge probes (/proc, /metrics, control socket).
#
#   load/main.c      command line, set-up, run
#   load/ws.c        signalling thread: lws client sessions (join, offer, answer)
#   load/schedule.c  signalling thread: phases, ramp, churn, timeouts, probes
#   load/chair.c     the chair: floor-control probe, grant/end_turn rotation, webcast
#   load/media.c     media thread: epoll over UDP sockets, timer heap, speakers, listeners
#   load/marker.c    pre-encoded marked signal, calibration, marker detector
#   load/sdp_offer.c offer generator, answer reader (GstSDPMessage)
#   load/probe.c     /proc, /metrics, control "status"
#   load/report.c    table, JSON, --assert
#   load/heap.c      timer min-heap
#   client/rtc_build.c  build an uplink packet without sending it (impairment)
#
# pkg-config prefixes are FB_LOAD_* so they cannot clash with other modules'.
pkg_check_modules(FB_LOAD_LWS REQUIRED IMPORTED_TARGET libwebsockets)
pkg_check_modules(FB_LOAD_JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(FB_LOAD_GSTSDP REQUIRED IMPORTED_TARGET gstreamer-sdp-1.0)

add_library(fbclientload STATIC client/rtc_build.c)
target_include_directories(fbclientload PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(fbclientload PUBLIC fbclient)

add_executable(floorbridge-load
  load/main.c
  load/ws.c
  load/schedule.c
  load/chair.c
  load/media.c
  load/marker.c
  load/sdp_offer.c
  load/probe.c
  load/report.c
  load/heap.c
)
target_include_directories(floorbridge-load PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(floorbridge-load PRIVATE fbclientload fbclient fbtoken fbcodecs fbutil
  PkgConfig::FB_LOAD_LWS PkgConfig::FB_LOAD_JANSSON PkgConfig::FB_LOAD_GSTSDP Threads::Threads m)
set_target_properties(floorbridge-load PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

# CI smoke test: a real bridge and 20 participants (2 live) for 10 s.
# Correctness only (every join, continuity, markers heard), never timing.
add_test(NAME load_smoke
  COMMAND bash ${CMAKE_SOURCE_DIR}/load/smoke.sh $<TARGET_FILE:floorbridge>
          $<TARGET_FILE:floorbridge-load>)
set_tests_properties(load_smoke PROPERTIES TIMEOUT 90 RUN_SERIAL TRUE)
