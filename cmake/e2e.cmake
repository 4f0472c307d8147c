# Browser end-to-end tests: real Chromium (/usr/bin/chromium, driven by
# playwright-core from tests/e2e/node_modules) against the real floorbridge
# binary, one ctest per tests/e2e/*.test.mjs, run with node's built-in test
# runner. scripts/setup installs chromium, coturn and the npm packages.
#
# Missing prerequisites (node, node_modules, chromium) make the tests FAIL with
# a message saying what to install; they never skip silently. The harness
# checks node_modules and chromium itself (tests/e2e/harness.mjs).
#
# Each test runs in a private network namespace with only loopback when the
# system allows it (tests/e2e/netns.sh; FB_E2E_NETNS=0 turns that off).
# Browsers are heavy: RUN_SERIAL keeps them away from each other and from the
# other tests. Label "e2e": `ctest -L e2e` runs only these, `-LE e2e` skips them.
find_program(FB_E2E_NODE node)

set(FB_E2E_TESTS
  delegate_hears_floor
  relay_via_turn
  observer_listen_only
  two_browsers_mix_minus
  join_time
  page_errors
  page_reconnect
  # floor control from the chair console (web/chair.html) and the delegate page
  chair_grants_floor
  chair_mute
  delegate_sends_chair_commands
  cut_and_bar
  webcast_mode
  chat
  console_screenshot
  listen_page
  # the demo's configuration over TLS, three pages in one browser context
  tls_demo_pages
  tls_http
  page_failure_reason
  # the registration list to links, names intact, revocation while connected
  invite_links
  # a renewed certificate on SIGHUP (systemctl reload), nobody dropped
  tls_reload
  # the README's first command: scripts/demo started and its links opened
  demo_script
)

foreach(name IN LISTS FB_E2E_TESTS)
  set(file ${CMAKE_SOURCE_DIR}/tests/e2e/${name}.test.mjs)
  if(FB_E2E_NODE)
    add_test(NAME e2e_${name}
      COMMAND sh ${CMAKE_SOURCE_DIR}/tests/e2e/netns.sh ${FB_E2E_NODE} --test ${file}
      WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/e2e)
  else()
    add_test(NAME e2e_${name} COMMAND sh -c
      "echo 'e2e: node is not installed: run scripts/setup (Debian packages nodejs npm)' >&2; exit 1")
  endif()
  set_tests_properties(e2e_${name} PROPERTIES
    ENVIRONMENT "FB_BINARY=$<TARGET_FILE:floorbridge>"
    TIMEOUT 300
    RUN_SERIAL TRUE
    LABELS e2e)
endforeach()
