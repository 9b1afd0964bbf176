# The Debian package (CPack's DEB generator): what `cmake --install` puts in
# place, plus the copyright, changelog and maintainer scripts Debian asks for.
#   cmake --build build --target package     -> build/tvf_<version>_<arch>.deb
# /etc/tvf/tvf.yaml is a conffile; postinst/postrm reload udev and systemd
# and start nothing (conf/debian/). Build with -DCMAKE_INSTALL_PREFIX=/usr
# (scripts/setup.sh does) so the package holds /usr/sbin/tvfd and the rest.

# Package documentation, installed by cmake --install as well, so the
# install layout and the package's contents stay one list.
set(_tvf_doc ${CMAKE_INSTALL_DATADIR}/doc/tvf)
set(TVF_VERSION ${PROJECT_VERSION})
configure_file(${PROJECT_SOURCE_DIR}/conf/debian/changelog ${PROJECT_BINARY_DIR}/debian/changelog @ONLY)
# Debian wants it compressed, without a timestamp in the gzip header.
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/debian/changelog.gz
  COMMAND gzip -9 -n -f -k ${PROJECT_BINARY_DIR}/debian/changelog
  DEPENDS ${PROJECT_BINARY_DIR}/debian/changelog
  VERBATIM)
add_custom_target(tvf_changelog ALL DEPENDS ${PROJECT_BINARY_DIR}/debian/changelog.gz)
install(FILES conf/debian/copyright ${PROJECT_BINARY_DIR}/debian/changelog.gz README.md DESTINATION ${_tvf_doc})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tvf)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tvf developers <tvf@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "transparent VF failover daemon")
set(CPACK_PACKAGE_DESCRIPTION
    "tvfd gives the OS one TAP interface per synthetic NIC that survives the\n\
hot-unplug of an SR-IOV virtual function and live migration: it moves the\n\
datapath between the synthetic NIC and the VF behind the TAP. The package\n\
holds tvfd, tvfctl, the tvf-migrate hook, the systemd unit, the udev rule\n\
and its helper, and the man pages. Nothing is started on install.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from the binaries; python3 for tvf-migrate and tvf-udev.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/conf/debian/conffiles
    ${PROJECT_SOURCE_DIR}/conf/debian/postinst
    ${PROJECT_SOURCE_DIR}/conf/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Only the runtime pieces (no test tools, no static libraries).
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
include(CPack)
