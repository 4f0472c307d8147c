# Tests and the benchmark of fbdtls (cmake/layers.cmake): the DTLS 1.2
# server per participant (webrtc/dtls.c, OpenSSL) and the SRTP/SRTCP
# directions keyed from it (webrtc/srtp_session.c, srtp_fast.c, OpenSSL).
# libsrtp2 is only the tests' oracle.

# In-memory handshake against an OpenSSL DTLS client, key export, SRTP/SRTCP
# round trips, random-datagram robustness.
add_executable(test_dtls_srtp tests/unit/test_dtls_srtp.c)
target_include_directories(test_dtls_srtp PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR})
target_link_libraries(test_dtls_srtp PRIVATE fbdtls PkgConfig::SSL)
set_target_properties(test_dtls_srtp PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
add_test(NAME test_dtls_srtp COMMAND test_dtls_srtp)
set_tests_properties(test_dtls_srtp PROPERTIES TIMEOUT 60)

# The hand-written SRTP and SRTCP against libsrtp: identical bytes both ways.
add_executable(test_srtp_fast tests/unit/test_srtp_fast.c)
target_include_directories(test_srtp_fast PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR})
target_link_libraries(test_srtp_fast PRIVATE fbdtls PkgConfig::SRTP)
set_target_properties(test_srtp_fast PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_test(NAME test_srtp_fast COMMAND test_srtp_fast)
set_tests_properties(test_srtp_fast PROPERTIES TIMEOUT 120)

# fb-bench-srtp (bench/bench_srtp.c): ours against libsrtp per packet and
# per session, same run (bench/results/srtp.md). Not a test, not in CI.
add_executable(fb-bench-srtp bench/bench_srtp.c)
target_include_directories(fb-bench-srtp PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(fb-bench-srtp PRIVATE fbdtls PkgConfig::SRTP)
