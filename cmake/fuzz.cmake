# Coverage-guided fuzzing with libFuzzer (tests/fuzz/README.md).
#
#   cmake -B build-fuzz -S . -DCMAKE_C_COMPILER=clang -DFB_FUZZ=ON
#   scripts/fuzz [--seconds N] [target...]     build + run (the usual way)
#   ctest --test-dir build-fuzz -L fuzz         replay seeds + regressions once
#
# With FB_FUZZ ON (clang only) every C target of the project — libraries,
# the binary, the tests — is compiled with coverage instrumentation for
# libFuzzer (-fsanitize=fuzzer-no-link) plus ASan and UBSan (UBSan aborts, so
# libFuzzer sees it as a crash), and each tests/fuzz/fuzz_X.c becomes an
# executable build-fuzz/fuzz/fuzz_X linked with libFuzzer's main. This file is
# included at the END of the root CMakeLists.txt, after every target exists,
# which is why the flags are added target by target (add_compile_options only
# reaches targets created after it).
#
# Nothing here changes the normal gcc builds: with FB_FUZZ OFF this file only
# declares the option.
option(FB_FUZZ "Build libFuzzer targets (clang; coverage + ASan + UBSan on every target)" OFF)
if(NOT FB_FUZZ)
  return()
endif()
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "FB_FUZZ=ON needs clang (libFuzzer): "
    "cmake -B build-fuzz -S . -DCMAKE_C_COMPILER=clang -DFB_FUZZ=ON")
endif()

set(FB_FUZZ_SAN -fsanitize=address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer)

# Warnings clang 14 raises on code that gcc's -Wall -Wextra accepts; the
# sources are not changed for them (-Werror stays on for everything else).
# Each entry says why it is here; drop an entry once clang is quiet without it.
#   -Wno-implicit-const-int-float-conversion: tests/unit/test_mixer.c divides
#     by RAND_MAX as a float ((float)rand() / RAND_MAX); clang 14 warns that
#     2147483647 becomes 2147483648.0f, which is harmless there (gcc is silent).
set(FB_FUZZ_CLANG_WNO -Wno-implicit-const-int-float-conversion)

# Every buildsystem target in dir and below.
function(fb_fuzz_collect dir out)
  get_property(t DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(s IN LISTS subs)
    fb_fuzz_collect("${s}" st)
    list(APPEND t ${st})
  endforeach()
  set(${out} ${t} PARENT_SCOPE)
endfunction()

# Instrument what exists already...
fb_fuzz_collect("${CMAKE_SOURCE_DIR}" fb_fuzz_existing)
foreach(t IN LISTS fb_fuzz_existing)
  get_target_property(type ${t} TYPE)
  if(type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY|EXECUTABLE)$")
    target_compile_options(${t} PRIVATE -fsanitize=fuzzer-no-link ${FB_FUZZ_SAN}
      ${FB_FUZZ_CLANG_WNO})
  endif()
  if(type STREQUAL "EXECUTABLE" OR type STREQUAL "SHARED_LIBRARY")
    target_link_options(${t} PRIVATE -fsanitize=address,undefined)
  endif()
endforeach()
# ...and anything created after this file.
add_compile_options(-fsanitize=fuzzer-no-link ${FB_FUZZ_SAN} ${FB_FUZZ_CLANG_WNO})

set(FB_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)

# fb_fuzz(NAME LIBS...) — tests/fuzz/fuzz_NAME.c -> build-fuzz/fuzz/fuzz_NAME,
# plus a ctest "fuzz_NAME_regressions" that runs the target once over its seed
# corpus (tests/fuzz/corpus/NAME) and its regressions (tests/fuzz/regressions/
# NAME, when present) without fuzzing (-runs=0 only executes the inputs).
function(fb_fuzz name)
  set(exe fuzz_${name})
  add_executable(${exe} ${FB_FUZZ_DIR}/fuzz_${name}.c)
  target_include_directories(${exe} PRIVATE ${CMAKE_SOURCE_DIR})
  target_link_libraries(${exe} PRIVATE ${ARGN})
  target_link_options(${exe} PRIVATE -fsanitize=fuzzer,address,undefined)
  set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  # The directory list is made when the test runs, so a regressions directory
  # added later needs no re-configure. -runs=0 never writes into them.
  add_test(NAME ${exe}_regressions
    COMMAND sh -c "bin=$0; set --; for d in \"${FB_FUZZ_DIR}/corpus/${name}\" \"${FB_FUZZ_DIR}/regressions/${name}\"; do [ -d \"$d\" ] && set -- \"$@\" \"$d\"; done; exec \"$bin\" -runs=0 \"$@\""
      $<TARGET_FILE:${exe}>)
  set_tests_properties(${exe}_regressions PROPERTIES LABELS fuzz TIMEOUT 300
    ENVIRONMENT "ASAN_OPTIONS=abort_on_error=1:detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endfunction()

# The targets and the libraries under test (see each file's top comment).
fb_fuzz(rtp fbbridge)
fb_fuzz(rtcp fbbridge)
fb_fuzz(config fbbridge)
fb_fuzz(stun fbstun)
fb_fuzz(dtls fbdtls)
fb_fuzz(srtp fbdtls)
# ours (srtp_fast.c, srtp_session.c) against libsrtp2 on the same keys: same
# bytes, same verdicts, both directions (libsrtp is only the oracle here)
fb_fuzz(srtp_diff fbdtls PkgConfig::SRTP)
fb_fuzz(jitter fbcodecs)
fb_fuzz(token fbtoken)
if(TARGET fbsignalling)
  fb_fuzz(sdp fbsignalling)
  # protocol.c (+ the token and SDP checks a message leads to), not meeting.c
  fb_fuzz(ws_message fbsignalling)
  # the meeting (meeting.c, chair.c, broadcast.c, floor*.c, store.c) on a fake
  # bridge: several sessions, every message type, the clock, a restart
  fb_fuzz(meeting fbsignalling)
target_sources(fuzz_meeting PRIVATE ${FB_FUZZ_DIR}/meeting_build.c)
  # the registration list floorbridge invite reads (libcsv + the row checks)
  fb_fuzz(registration fbsignalling)
endif()

# Seed generator (a normal program, not a fuzzer): writes the binary seeds
# into a corpus directory, e.g. build-fuzz/fuzz/gen_seeds tests/fuzz/corpus.
add_executable(fuzz_gen_seeds ${FB_FUZZ_DIR}/gen_seeds.c)
target_include_directories(fuzz_gen_seeds PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(fuzz_gen_seeds PRIVATE fbbridge fbstun fbdtls fbtoken fbcodecs)
target_link_options(fuzz_gen_seeds PRIVATE -fsanitize=address,undefined)
set_target_properties(fuzz_gen_seeds PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz
  OUTPUT_NAME gen_seeds)
