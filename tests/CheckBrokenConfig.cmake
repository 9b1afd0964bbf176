# tvfd --check on a broken file must exit 2 and list every problem.
execute_process(COMMAND ${TVFD} --config ${CONF} --check RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "expected exit 2, got ${rc}\n${out}${err}")
endif()
foreach(needle
    "broken.yaml:1: log_level: unknown value 'loud'"
    "broken.yaml:5: pairs[0].attach_wait_ms: out of range: -1"
    "broken.yaml:6: pairs[0].colour: unknown key 'colour'"
    "broken.yaml:7: pairs[1].name: duplicate pair name 'tvf0'"
    "broken.yaml:8: pairs[1].synthetic: synthetic 'eth0' is already used by pairs[0]"
    "broken.yaml:10: pairs[2].synthetic: bad MAC address")
  string(FIND "${err}" "${needle}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "missing problem: ${needle}\nstderr was:\n${err}")
  endif()
endforeach()
