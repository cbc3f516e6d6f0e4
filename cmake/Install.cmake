# cmake --install: the binary, the qemu-system-x86_64 compatibility link, the
# man page and bash completion (generated from the options table by the
# built binary: myvmm --help-man / --help-completion) and the example configs.
include(GNUInstallDirs)
option(MYVMM_INSTALL_QEMU_LINK
  "Also install ${CMAKE_INSTALL_BINDIR}/qemu-system-x86_64 -> myvmm (shadows a real QEMU on PATH)" OFF)

set(MYVMM_MAN ${CMAKE_BINARY_DIR}/doc/myvmm.1)
set(MYVMM_COMPLETION ${CMAKE_BINARY_DIR}/doc/myvmm.bash)
add_custom_command(OUTPUT ${MYVMM_MAN} ${MYVMM_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/doc
  COMMAND sh -c "$<TARGET_FILE:myvmm> --help-man > ${MYVMM_MAN}.tmp && mv ${MYVMM_MAN}.tmp ${MYVMM_MAN}"
  COMMAND sh -c "$<TARGET_FILE:myvmm> --help-completion > ${MYVMM_COMPLETION}.tmp && mv ${MYVMM_COMPLETION}.tmp ${MYVMM_COMPLETION}"
  DEPENDS myvmm
  COMMENT "man page and bash completion from the options table"
  VERBATIM)
add_custom_target(myvmm_docs ALL DEPENDS ${MYVMM_MAN} ${MYVMM_COMPLETION})

install(TARGETS myvmm RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${MYVMM_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${MYVMM_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME myvmm)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/myvmm/configs
  FILES_MATCHING PATTERN "*.conf")
# libexec/myvmm/qemu-system-x86_64 -> ../../bin/myvmm: put that directory first
# on PATH (a LAVA worker, a CI job) to run myvmm where a QEMU is expected,
# without shadowing a real QEMU for everyone else.
set(_rel_bin "../../${CMAKE_INSTALL_BINDIR}/myvmm")
install(CODE "
  set(_d \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBEXECDIR}/myvmm\")
  file(MAKE_DIRECTORY \"\${_d}\")
  file(CREATE_LINK \"${_rel_bin}\" \"\${_d}/qemu-system-x86_64\" SYMBOLIC)
  message(STATUS \"Installing: \${_d}/qemu-system-x86_64 -> ${_rel_bin}\")
")
if(MYVMM_INSTALL_QEMU_LINK)
  install(CODE "
    file(CREATE_LINK myvmm \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/qemu-system-x86_64\" SYMBOLIC)
  ")
endif()
