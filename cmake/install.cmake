# Install rules, the generated man page and shell completion, and the CPack .deb
# (scripts/package.sh). Included at the end of CMakeLists.txt.
include(GNUInstallDirs)

# virtumancer-docgen (build time only, not installed) writes the man page and the completion
# scripts from the command tree (src/cli/app.cpp), so they list exactly what --help lists.
add_executable(virtumancer-docgen ${CMAKE_SOURCE_DIR}/tools/docgen.cpp)
target_link_libraries(virtumancer-docgen PRIVATE virtumancer_cli CLI11::CLI11)
target_include_directories(virtumancer-docgen PRIVATE ${CMAKE_BINARY_DIR}/generated)

string(TIMESTAMP VIRTUMANCER_MAN_DATE "%Y-%m-%d" UTC) # honours SOURCE_DATE_EPOCH
set(VIRTUMANCER_GEN_DIR ${CMAKE_BINARY_DIR}/generated/dist)
set(VIRTUMANCER_MAN ${VIRTUMANCER_GEN_DIR}/virtumancer.1)
set(VIRTUMANCER_BASH_COMPLETION ${VIRTUMANCER_GEN_DIR}/bash/virtumancer)
set(VIRTUMANCER_ZSH_COMPLETION ${VIRTUMANCER_GEN_DIR}/zsh/_virtumancer)
add_custom_command(
  OUTPUT ${VIRTUMANCER_MAN} ${VIRTUMANCER_MAN}.gz ${VIRTUMANCER_BASH_COMPLETION}
         ${VIRTUMANCER_ZSH_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${VIRTUMANCER_GEN_DIR}/bash ${VIRTUMANCER_GEN_DIR}/zsh
  COMMAND virtumancer-docgen man ${VIRTUMANCER_MAN} ${VIRTUMANCER_MAN_DATE}
  COMMAND gzip -9 -n -f -k ${VIRTUMANCER_MAN}
  COMMAND virtumancer-docgen bash ${VIRTUMANCER_BASH_COMPLETION}
  COMMAND virtumancer-docgen zsh ${VIRTUMANCER_ZSH_COMPLETION}
  DEPENDS virtumancer-docgen
  COMMENT "Generating the man page and the bash/zsh completion from the command tree")
add_custom_target(virtumancer-docs ALL
  DEPENDS ${VIRTUMANCER_MAN}.gz ${VIRTUMANCER_BASH_COMPLETION} ${VIRTUMANCER_ZSH_COMPLETION})

install(TARGETS virtumancer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${VIRTUMANCER_MAN}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${VIRTUMANCER_BASH_COMPLETION}
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)
install(FILES ${VIRTUMANCER_ZSH_COMPLETION}
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/zsh/vendor-completions)
file(GLOB VIRTUMANCER_SCHEMAS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/schema/*.json)
install(FILES ${VIRTUMANCER_SCHEMAS} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/virtumancer)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/specs DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The .deb (scripts/package.sh runs cpack). Version: VIRTUMANCER_FULL_VERSION (cmake/version.cmake),
# the same string `virtumancer --version` prints. Depends: computed by dpkg-shlibdeps.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME virtumancer)
set(CPACK_PACKAGE_VERSION ${VIRTUMANCER_FULL_VERSION})
set(CPACK_PACKAGE_VENDOR "virtumancer")
set(CPACK_PACKAGE_CONTACT "virtumancer maintainers <virtumancer@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "declarative configuration reconciler for libvirt virtual machines")
set(CPACK_PACKAGE_DESCRIPTION
    "Keeps hosts, storage pools, volumes, networks, VMs, snapshots and templates as YAML specs;\n\
loads them into SQLite, plans the changes against the live libvirt XML (each classified as\n\
live, next-boot, restart or replace), applies them with tasks and an audit log, and reports\n\
drift.")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libvirt-daemon-system, bash-completion")
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
include(CPack)

if(VIRTUMANCER_TESTS)
  # Installs into a temporary prefix and checks every file (fast: copies only).
  add_test(NAME install_prefix
           COMMAND ${CMAKE_SOURCE_DIR}/tests/package/check_install.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(install_prefix PROPERTIES LABELS unit)
  # Builds the .deb from this build directory (cpack; no second build), checks its control
  # file and contents with dpkg-deb, extracts it into a throwaway root and runs the binary.
  add_test(NAME deb_package
           COMMAND ${CMAKE_SOURCE_DIR}/tests/package/check_deb.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(deb_package PROPERTIES LABELS "unit;package" TIMEOUT 300)
endif()
