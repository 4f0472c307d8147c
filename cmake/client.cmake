# WebRTC client library (issue: load tool / browser-less tests): one C
# participant speaking ICE (controlling, against the bridge's ICE-lite port),
# DTLS 1.2 client, SRTP and Opus — what a browser does, without a browser.
#
#   fbclient  client/rtc_client.c   socket, ICE (libnice's STUN library),
#                                   demultiplexing, timers, test hooks
#             client/rtc_media.c    SRTP/SRTCP media in and out, Opus, PCM
#                                   buffer, receive statistics
#             client/dtls_client.c  shared SSL_CTX/certificate, DTLS client
#
# It uses fb_srtp from fbdtls and the Opus wrapper from fbcodecs, but not
# fbbridge, so the load tool can link it without GStreamer. pkg-config
# prefixes are FB_CLIENT_* so they cannot clash with other modules'.
pkg_check_modules(FB_CLIENT_NICE REQUIRED IMPORTED_TARGET nice)
pkg_check_modules(FB_CLIENT_SSL REQUIRED IMPORTED_TARGET openssl)

add_library(fbclient STATIC
  client/rtc_client.c
  client/rtc_media.c
  client/dtls_client.c
)
target_include_directories(fbclient PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(fbclient PUBLIC fbdtls fbcodecs PkgConfig::FB_CLIENT_NICE
  PkgConfig::FB_CLIENT_SSL m)

# The bridge and WebRTC clients in one process over loopback: ICE, DTLS,
# SRTP, mix-minus by tone detection, junk/replays, NAT rebinding, consent
# freshness, unknown-ufrag silence, RTCP sender reports.
add_executable(test_webrtc_loopback tests/integration/test_webrtc_loopback.c)
target_include_directories(test_webrtc_loopback PRIVATE ${CMAKE_SOURCE_DIR}/tests
  ${CMAKE_SOURCE_DIR}/tests/integration ${CMAKE_SOURCE_DIR})
target_link_libraries(test_webrtc_loopback PRIVATE fbbridge fbclient)
set_target_properties(test_webrtc_loopback PROPERTIES RUNTIME_OUTPUT_DIRECTORY
  ${CMAKE_BINARY_DIR}/tests)
add_test(NAME test_webrtc_loopback COMMAND test_webrtc_loopback)
set_tests_properties(test_webrtc_loopback PROPERTIES TIMEOUT 90)

# The chair and a delegate on a poor connection, with real media: impaired
# uplink -> score falls -> flagged on the console -> cut (barred, mic check)
# -> loss stops -> recovered -> allowed. Needs the signalling layer and the
# load tool's packet builder (fbclientload) for loss injection.
add_executable(test_quality_flow tests/integration/test_quality_flow.c)
target_include_directories(test_quality_flow PRIVATE ${CMAKE_SOURCE_DIR}/tests
  ${CMAKE_SOURCE_DIR}/tests/integration ${CMAKE_SOURCE_DIR})
target_link_libraries(test_quality_flow PRIVATE fbsignalling fbclientload fbclient
  PkgConfig::FB_SIG_SQLITE PkgConfig::FB_SIG_JANSSON)
set_target_properties(test_quality_flow PROPERTIES RUNTIME_OUTPUT_DIRECTORY
  ${CMAKE_BINARY_DIR}/tests)
add_test(NAME test_quality_flow COMMAND test_quality_flow)
set_tests_properties(test_quality_flow PROPERTIES TIMEOUT 120)
