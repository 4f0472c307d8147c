# The signalling libraries:
#
#   fbtoken       signalling/token.c  HS256 join tokens (libjwt, jansson, libcrypto)
#   fbfloor       the floor rules and the store (no network: fuzzed alone)
#   fbsignalling  the server, the meeting, the protocol (links fbbridge)
#
# The pkg-config prefixes are FB_SIG_* so they cannot clash with other modules'.
pkg_check_modules(FB_SIG_JWT REQUIRED IMPORTED_TARGET libjwt)
pkg_check_modules(FB_SIG_JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(FB_SIG_CRYPTO REQUIRED IMPORTED_TARGET libcrypto)

add_library(fbtoken STATIC signalling/token.c)
target_include_directories(fbtoken PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(fbtoken PUBLIC PkgConfig::FB_SIG_JWT PkgConfig::FB_SIG_JANSSON
  PkgConfig::FB_SIG_CRYPTO)

# fb_signalling_test(NAME SOURCE LIBS...) — binaries go next to the other tests.
function(fb_signalling_test name src)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARGN})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 120)
endfunction()

fb_signalling_test(test_token tests/unit/test_token.c fbtoken)
fb_signalling_test(test_stun tests/unit/test_stun.c fbstun)

# The signalling server (issue: browsers join): SDP offer/answer (GstSDP), the
# WebSocket JSON protocol and meeting sessions, TURN REST credentials, and the
# libwebsockets server with its own thread. floorbridge links it.
pkg_check_modules(FB_SIG_LWS REQUIRED IMPORTED_TARGET libwebsockets)
pkg_check_modules(FB_SIG_GSTSDP REQUIRED IMPORTED_TARGET gstreamer-sdp-1.0)
pkg_check_modules(FB_SIG_SSL REQUIRED IMPORTED_TARGET libssl)

add_library(fbsignalling STATIC
  signalling/sdp.c
  signalling/protocol.c
  signalling/turn.c
  signalling/meeting.c
  signalling/chair.c
  signalling/broadcast.c
  signalling/server.c
  signalling/http.c
  signalling/revoke.c
  signalling/registration.c
  signalling/invite.c
  signalling/tls.c
)
target_include_directories(fbsignalling PUBLIC ${CMAKE_SOURCE_DIR})
# libcsv (RFC 4180) reads the registration list; Debian ships no .pc for it.
find_library(FB_SIG_CSV csv REQUIRED)
find_path(FB_SIG_CSV_INCLUDE csv.h REQUIRED)
target_include_directories(fbsignalling PRIVATE ${FB_SIG_CSV_INCLUDE})
target_link_libraries(fbsignalling PUBLIC ${FB_SIG_CSV})
target_link_libraries(fbsignalling PUBLIC fbbridge fbtoken PkgConfig::FB_SIG_LWS
  PkgConfig::FB_SIG_JANSSON PkgConfig::FB_SIG_GSTSDP PkgConfig::FB_SIG_CRYPTO PkgConfig::FB_SIG_SSL
  Threads::Threads)
target_link_libraries(floorbridge PRIVATE fbsignalling fbtoken)

# SDP: a hand-written Chromium 120+ offer, audio+video+data, answer re-parsed,
# refusals, random mutations. Signalling: a real bridge and server on port 0,
# talked to by a small WebSocket client in the test.
fb_signalling_test(test_sdp tests/unit/test_sdp.c fbsignalling)
fb_signalling_test(test_signalling tests/unit/test_signalling.c fbsignalling PkgConfig::FB_SIG_SSL)
# The chair's floor control and the chat over the same server, with a SQLite
# store (the test reads the audit log and runs `floorbridge report`).
fb_signalling_test(test_chair_protocol tests/unit/test_chair_protocol.c fbsignalling
  PkgConfig::FB_SIG_SQLITE)
# Revoked tokens refused live; production configs refused without TLS or with
# the demo's published secret.
fb_signalling_test(test_security tests/unit/test_security.c fbsignalling PkgConfig::FB_SIG_SQLITE)
# The registration list (every bad-row code, names in four scripts) and
# floorbridge invite run in-process: links, nbf/exp, re-import revocations.
fb_signalling_test(test_invite tests/unit/test_invite.c fbsignalling)

# Floor control and its memory (issue: meeting rules): the rules engine
# (signalling/floor.c + floor_chair.c, a pure state machine: no sockets, no
# SQL), the SQLite store (signalling/store.c) and `floorbridge report`
# (signalling/report.c).
# Headers only from codecs/ (the quality struct), so fbfloor
# builds and tests without fbbridge; fbsignalling links it.
pkg_check_modules(FB_SIG_SQLITE REQUIRED IMPORTED_TARGET sqlite3)

add_library(fbfloor STATIC
  signalling/floor.c
  signalling/floor_chair.c
  signalling/store.c
  signalling/report.c
)
target_include_directories(fbfloor PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(fbfloor PUBLIC fbtoken PkgConfig::FB_SIG_SQLITE)
target_link_libraries(fbsignalling PUBLIC fbfloor)

fb_signalling_test(test_floor tests/unit/test_floor.c fbfloor)
fb_signalling_test(test_store tests/unit/test_store.c fbfloor)
