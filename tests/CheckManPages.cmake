# Each generated man page renders without a single warning, checked as
# lintian does: man --warnings with groff's full warning set.
#   cmake -DMAN_DIR=build/man -DPAGES="tvfd.8;tvfctl.8;tvf.yaml.5" -P CheckManPages.cmake
find_program(MAN man REQUIRED)
foreach(page ${PAGES})
  set(f ${MAN_DIR}/${page})
  if(NOT EXISTS ${f})
    message(FATAL_ERROR "${f} was not built")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C.UTF-8 MANROFFSEQ= MANWIDTH=80
                          ${MAN} --warnings -E UTF-8 -l -Tutf8 -Z ${f}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT err STREQUAL "")
    message(FATAL_ERROR "${page}: man exited ${rc} with warnings:\n${err}")
  endif()
  string(LENGTH "${out}" n)
  if(n LESS 500)
    message(FATAL_ERROR "${page}: rendered to only ${n} bytes")
  endif()
  message(STATUS "${page}: no warnings")
endforeach()
