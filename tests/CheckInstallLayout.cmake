# cmake --install puts every piece where a distribution would.
set(dest ${BUILD}/install-check)
file(REMOVE_RECURSE ${dest})
execute_process(COMMAND ${CMAKE_COMMAND} -E env DESTDIR=${dest} ${CMAKE_COMMAND} --install ${BUILD}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install failed: ${out}${err}")
endif()
# With -DCMAKE_INSTALL_PREFIX=/usr (scripts/setup.sh): /usr/sbin/tvfd,
# /etc/tvf/tvf.yaml, /usr/lib/udev/rules.d/80-tvf.rules, ...
foreach(f ${PREFIX}/${SBIN}/tvfd ${PREFIX}/${SBIN}/tvfctl ${PREFIX}/${SBIN}/tvf-migrate ${SYSCONF}/tvf/tvf.yaml
          ${PREFIX}/lib/udev/rules.d/80-tvf.rules ${PREFIX}/${LIBEXEC}/tvf/tvf-udev
          ${PREFIX}/lib/systemd/system/tvfd.service ${PREFIX}/${MANDIR}/man8/tvfd.8.gz
          ${PREFIX}/${MANDIR}/man8/tvfctl.8.gz ${PREFIX}/${MANDIR}/man8/tvf-migrate.8.gz
          ${PREFIX}/${MANDIR}/man5/tvf.yaml.5.gz)
  if(NOT EXISTS ${dest}/${f})
    message(FATAL_ERROR "missing after install: /${f}")
  endif()
endforeach()
file(REMOVE_RECURSE ${dest})
