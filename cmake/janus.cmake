# fb-rtp-load (bench/rtp_load.c): the plain-RTP load generator that
# scripts/bench-janus uses to put the same load on floorbridge and on Janus
# AudioBridge. Included at the end of the root CMakeLists.txt.
add_executable(fb-rtp-load bench/rtp_load.c)
target_link_libraries(fb-rtp-load PRIVATE fbbridge)
set_target_properties(fb-rtp-load PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
