# The systemd unit's exposure, as `systemd-analyze security --offline=yes`
# rates it, is at most MAX (issue 13: 3.0). Skips, with the reason, where
# systemd-analyze is missing or too old for --offline (systemd < 250).
#   cmake -DUNIT=conf/systemd/tvfd.service -DMAX=3.0 -P CheckUnitExposure.cmake
find_program(ANALYZE systemd-analyze)
if(NOT ANALYZE)
  message("SKIP: systemd-analyze is not installed")
  return()
endif()
# systemd-analyze names the unit after the file; copy it so a stray unit of
# the same name on the host cannot be what is rated.
set(dir ${CMAKE_CURRENT_BINARY_DIR}/unit-exposure)
file(REMOVE_RECURSE ${dir})
file(MAKE_DIRECTORY ${dir})
get_filename_component(name ${UNIT} NAME)
file(COPY ${UNIT} DESTINATION ${dir})
execute_process(COMMAND ${ANALYZE} security --offline=yes --no-pager ${dir}/${name}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE ${dir})
if(err MATCHES "unrecognized option|Unknown option")
  message("SKIP: this systemd-analyze has no --offline (${err})")
  return()
endif()
if(NOT out MATCHES "Overall exposure level for ${name}: ([0-9]+)\\.([0-9])")
  message(FATAL_ERROR "no exposure level in systemd-analyze's output (exit ${rc}):\n${out}${err}")
endif()
set(tenths "${CMAKE_MATCH_1}${CMAKE_MATCH_2}")
string(REPLACE "." "" max_tenths "${MAX}")
if(tenths GREATER max_tenths)
  message(FATAL_ERROR "${name}: exposure ${CMAKE_MATCH_1}.${CMAKE_MATCH_2} > ${MAX}:\n${out}")
endif()
message(STATUS "${name}: exposure ${CMAKE_MATCH_1}.${CMAKE_MATCH_2} <= ${MAX}")
