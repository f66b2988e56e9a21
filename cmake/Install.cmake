# Installation and packaging (docs/DEPLOY.md): the programs (src/CMakeLists.txt installs them
# to bin/), the systemd units, the default configuration, the AppArmor profile, and a .deb
# through CPack.
#
#   cmake --install build [--prefix /usr]      # units go to <prefix>/lib/systemd/system
#   cd build && cpack -G DEB                    # ritma_<version>_<arch>.deb (prefix /usr)
#
# The units name /usr/bin/...; installed under another prefix, their ExecStart= lines are
# rewritten to <prefix>/bin at install time. Configuration always goes to /etc (absolute,
# honouring DESTDIR), as systemd and AppArmor look for it there.

set(RITMA_DEPLOY_DIR ${PROJECT_SOURCE_DIR}/deploy)
set(RITMA_SYSTEMD_UNITS ritma-sensor.service ritma-retention.service ritma-retention.timer)

# The units, with ExecStart= following the install prefix.
install(CODE "set(RITMA_DEPLOY_DIR \"${RITMA_DEPLOY_DIR}\")
set(RITMA_DEPLOY_STAGE \"${PROJECT_BINARY_DIR}/deploy-stage\")
set(RITMA_SYSTEMD_UNITS \"${RITMA_SYSTEMD_UNITS}\")")
install(CODE [[
  # One staging directory per (DESTDIR, prefix): concurrent installs do not collide.
  string(MD5 _stage "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
  set(_stage "${RITMA_DEPLOY_STAGE}/${_stage}")
  file(MAKE_DIRECTORY "${_stage}")
  set(_ritma_units)
  foreach(_unit IN LISTS RITMA_SYSTEMD_UNITS)
    file(READ "${RITMA_DEPLOY_DIR}/systemd/${_unit}" _text)
    if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
      string(REPLACE "=/usr/bin/" "=${CMAKE_INSTALL_PREFIX}/bin/" _text "${_text}")
    endif()
    file(WRITE "${_stage}/${_unit}" "${_text}")
    list(APPEND _ritma_units "${_stage}/${_unit}")
  endforeach()
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES ${_ritma_units})
]])

# Default configuration and the AppArmor profile (conffiles of the .deb).
install(FILES ${RITMA_DEPLOY_DIR}/config/ritma.env ${RITMA_DEPLOY_DIR}/config/retention.env
        DESTINATION /etc/ritma PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${RITMA_DEPLOY_DIR}/apparmor/ritma-sensor DESTINATION /etc/apparmor.d
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/DEPLOY.md
              ${PROJECT_SOURCE_DIR}/docs/SENSOR.md
        DESTINATION share/doc/ritma)

# The .deb.
set(CPACK_PACKAGE_NAME ritma)
set(CPACK_PACKAGE_VENDOR "Ritma")
set(CPACK_PACKAGE_CONTACT "Ritma maintainers <ritma@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "tamper-evident runtime recorder for Linux (eBPF)")
set(CPACK_PACKAGE_DESCRIPTION
    "ritma-sensor records what runs on the host from the kernel (eBPF BTF tracepoints) and seals it into signed Merkle windows; ritma queries, verifies and exports the record; requiem is the sandboxed execution engine.")
set(CPACK_GENERATOR DEB)
# Absolute destinations (/etc) need DESTDIR staging; the package installs under /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_NAME ritma)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Dependencies: the libraries the binaries link (dpkg-shlibdeps). systemd and AppArmor are
# optional: the package also serves containers (deploy/docker/Dockerfile).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "apparmor")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${RITMA_DEPLOY_DIR}/debian/conffiles ${RITMA_DEPLOY_DIR}/debian/postinst
    ${RITMA_DEPLOY_DIR}/debian/prerm ${RITMA_DEPLOY_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
include(CPack)
