# The layers, one static library per folder, each linking only the layers
# below it (docs/ARCHITECTURE.md draws them):
#
#   app/        floorbridge (the binary)      process shell: main, sd_notify
#   signalling/ fbsignalling, fbfloor, fbtoken  WebSockets, meeting, floor rules
#   bridge/     fbbridge                      composes the layers below; control socket, reaper
#   webrtc/     fbwebrtc, fbdtls, fbstun      ICE-lite, DTLS (own thread), SRTP, RTCP
#   net/        fbnet                         the UDP media port: receive, demultiplex, plain RTP
#   mixer/      fbmixer                       participants, rings, the tick, mix, fan-out
#   media/      fbmedia                       GStreamer edges: floor input, PA, recording
#   config/     fbconfig                      the configuration file and its keys
#   codecs/     fbcodecs                      Opus, jitter buffer, limiter, levels
#   util/       fbutil                        log, clock, histograms
#
# fbdtls (DTLS + SRTP) and fbstun (ICE-lite) are libraries of their own
# because client/ (the test and load client) uses them without the rest.
pkg_check_modules(SSL REQUIRED IMPORTED_TARGET openssl)
pkg_check_modules(SRTP REQUIRED IMPORTED_TARGET libsrtp2)
pkg_check_modules(NICE REQUIRED IMPORTED_TARGET nice)

add_library(fbutil STATIC util/log.c util/clock.c util/hist.c)
target_include_directories(fbutil PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(fbutil PUBLIC Threads::Threads m)

add_library(fbcodecs STATIC
  codecs/opus_codec.c
  codecs/jitter.c
  codecs/uplink.c
  codecs/limiter.c
  codecs/levels.c
  codecs/synth.c
  codecs/quality.c
)
target_include_directories(fbcodecs PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(fbcodecs PUBLIC PkgConfig::OPUS m)

add_library(fbconfig STATIC config/config.c config/config_values.c)
target_link_libraries(fbconfig PUBLIC fbutil)

add_library(fbmedia STATIC media/media_io.c)
target_link_libraries(fbmedia PUBLIC fbutil fbcodecs PkgConfig::GST PkgConfig::GLIB)

add_library(fbmixer STATIC
  mixer/rtp.c
  mixer/pktring.c
  mixer/participant.c
  mixer/mixer.c
  mixer/fanout.c
)
target_link_libraries(fbmixer PUBLIC fbmedia fbconfig fbcodecs fbutil)

add_library(fbnet STATIC net/net.c)
target_link_libraries(fbnet PUBLIC fbmixer)

add_library(fbdtls STATIC
  webrtc/dtls.c
  webrtc/dtls_common.c
  webrtc/dtls_core.c
  webrtc/srtp_session.c
  webrtc/srtp_fast.c
)
target_include_directories(fbdtls PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(fbdtls PUBLIC PkgConfig::SSL Threads::Threads)

add_library(fbstun STATIC webrtc/stun.c)
target_include_directories(fbstun PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(fbstun PUBLIC PkgConfig::NICE PkgConfig::SSL Threads::Threads)

add_library(fbwebrtc STATIC
  webrtc/webrtc.c
  webrtc/handshake.c
  webrtc/webrtc_tx.c
  webrtc/rtcp.c
)
target_link_libraries(fbwebrtc PUBLIC fbnet fbdtls fbstun)

add_library(fbbridge STATIC bridge/bridge.c bridge/reaper.c bridge/control.c)
target_compile_definitions(fbbridge PUBLIC FB_VERSION="${PROJECT_VERSION}")
target_link_libraries(fbbridge PUBLIC fbwebrtc fbnet fbmixer fbmedia fbconfig)
