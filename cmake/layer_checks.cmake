# The build fails when a layer breaks the rules of cmake/layers.cmake (docs/ARCHITECTURE.md,
# "How the layering is enforced"). Two checks, both part of ALL:
#
# 1. Includes (target layering_includes): cmake/check_includes.cmake reads every #include of
#    src/ and include/virtumancer/ and fails naming file:line and the rule broken. Each layer
#    library depends on it, so building any target runs it (again only when a file changed).
#
# 2. Links (targets virtumancer_layer_check_<layer>): static libraries alone enforce nothing
#    (an undefined symbol resolves in the final link from whatever else is linked), so each
#    layer is linked into an executable of its own with --whole-archive (every object of the
#    layer, used or not) and nothing but what the table lets it link. A layer calling a
#    function of a layer it may not use, or of a third-party library it does not link itself
#    (libvirt outside the hypervisor adapter, SQLite outside the store), leaves an undefined
#    reference and that link fails. The executables are never run. The cli is not checked:
#    it may use every layer, and the virtumancer executable links it.

file(GLOB_RECURSE VMR_LAYERED_FILES CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/src/*.cpp ${CMAKE_SOURCE_DIR}/src/*.hpp
  ${CMAKE_SOURCE_DIR}/include/*.hpp)
set(VMR_INCLUDES_STAMP ${CMAKE_BINARY_DIR}/layering_includes.stamp)
add_custom_command(
  OUTPUT ${VMR_INCLUDES_STAMP}
  COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -DSTAMP=${VMR_INCLUDES_STAMP}
          -P ${CMAKE_SOURCE_DIR}/cmake/check_includes.cmake
  DEPENDS ${VMR_LAYERED_FILES} ${CMAKE_SOURCE_DIR}/cmake/check_includes.cmake
          ${CMAKE_SOURCE_DIR}/cmake/layers.cmake
  COMMENT "Checking the layers' includes (cmake/layers.cmake)")
add_custom_target(layering_includes ALL DEPENDS ${VMR_INCLUDES_STAMP})

file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/layer_check_main.cpp
     CONTENT "// Linked with one layer (whole archive) to check its dependencies; never run.\nint main() { return 0; }\n")
foreach(l IN LISTS VMR_LAYERS)
  add_dependencies(virtumancer_${l} layering_includes)
  if(l STREQUAL "cli")
    continue()
  endif()
  add_executable(virtumancer_layer_check_${l} ${CMAKE_BINARY_DIR}/generated/layer_check_main.cpp)
  target_link_libraries(virtumancer_layer_check_${l} PRIVATE
    "$<LINK_LIBRARY:WHOLE_ARCHIVE,virtumancer_${l}>")
  target_link_options(virtumancer_layer_check_${l} PRIVATE -Wl,--no-undefined)
endforeach()
