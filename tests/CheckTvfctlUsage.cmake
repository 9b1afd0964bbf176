# tvfctl's usage errors: each says "tvfctl[ COMMAND]: what is wrong" on
# stderr and exits 2; --socket is taken after the command as well as before
# (then the error is the unreachable socket, exit 3, not a usage error).
#   cmake -DTVFCTL=.../tvfctl -P CheckTvfctlUsage.cmake
function(expect args want_rc want_err)
  separate_arguments(argv UNIX_COMMAND "${args}")
  execute_process(COMMAND ${TVFCTL} ${argv} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(FIND "${err}" "${want_err}" at)
  if(NOT rc EQUAL want_rc OR at EQUAL -1)
    message(FATAL_ERROR "tvfctl ${args}: exit ${rc} (want ${want_rc}), stderr '${err}' (want '${want_err}')")
  endif()
endfunction()

expect("" 2 "tvfctl: a command is required (one of status, detach, attach, metrics, events, reload)")
expect("bogus" 2 "tvfctl: unknown command 'bogus' (one of status, detach")
expect("detach" 2 "tvfctl detach: PAIR is required (tvfctl detach --help says more)")
expect("attach" 2 "tvfctl attach: PAIR is required")
expect("status foo" 2 "tvfctl status: unexpected argument 'foo'")
expect("status --timeout-ms abc" 2 "tvfctl status: ")
expect("status --timeout-ms -5" 2 "tvfctl status: ")
expect("status --timeout-ms 0" 2 "tvfctl status: ")
expect("status --socket /nonexistent/tvf-usage.sock" 3 "cannot reach tvfd at /nonexistent/tvf-usage.sock")
expect("--socket /nonexistent/tvf-usage.sock status" 3 "cannot reach tvfd at /nonexistent/tvf-usage.sock")
expect("detach tvf0 --wait --socket /nonexistent/tvf-usage.sock" 3 "cannot reach tvfd at /nonexistent/tvf-usage.sock")

# tvf-migrate's own usage errors (exit 2), before it calls tvfctl.
function(expect_migrate args want_err)
  separate_arguments(argv UNIX_COMMAND "${args}")
  execute_process(COMMAND sh ${TVF_MIGRATE} ${argv} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(FIND "${err}" "${want_err}" at)
  if(NOT rc EQUAL 2 OR at EQUAL -1)
    message(FATAL_ERROR "tvf-migrate ${args}: exit ${rc} (want 2), stderr '${err}' (want '${want_err}')")
  endif()
endfunction()

if(DEFINED TVF_MIGRATE)
  expect_migrate("--socket" "tvf-migrate: --socket needs a PATH")
  expect_migrate("" "usage: tvf-migrate [--socket PATH] pre|post")
  expect_migrate("sideways" "usage: tvf-migrate [--socket PATH] pre|post")
endif()
