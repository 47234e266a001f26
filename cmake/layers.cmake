# The layers of virtumancer (docs/ARCHITECTURE.md, "Layers"): one static library per layer,
# built from a glob of its directory src/<layer>/ (a new .cpp there is picked up at the next
# build), linked to the layers it may use and to the third-party libraries it uses itself.
#
# VMR_LAYER_DEPS_<layer> is the one table of which layer may use which. It sets the links of
# the targets below and is read by the checks in cmake/layer_checks.cmake, so a use that is
# not in it fails the build. A dependency is PUBLIC when the layer's public header includes
# the other layer's header, PRIVATE when only its sources use it.
#
# The hypervisor layer is two targets: `hypervisor_seam` (the `Hypervisor` interface's value
# types `Observed*` and the stripping of live-only XML: no libvirt) and `hypervisor` (the
# libvirt adapter, the only target linking libvirt). The planner, the import and the applier
# use the seam only.

set(VMR_LAYERS util model spec store hypervisor_seam hypervisor image planner import applier cli)

#                         PUBLIC (its headers include them)   PRIVATE (its sources only)
set(VMR_LAYER_DEPS_util)
set(VMR_LAYER_DEPS_model           PUBLIC util)
set(VMR_LAYER_DEPS_spec            PUBLIC model util)
set(VMR_LAYER_DEPS_store           PUBLIC model spec util)
set(VMR_LAYER_DEPS_hypervisor_seam                              PRIVATE util)
set(VMR_LAYER_DEPS_hypervisor      PUBLIC hypervisor_seam       PRIVATE util)
# Images for volumes (src/image): digests (OpenSSL libcrypto), the download cache and HTTP
# (libcurl) on the machine running virtumancer. I/O of its own beside the hypervisor: the
# planner stays pure and links neither library; the applier reaches it only through its
# ImageSource interface, which the cli implements with this layer.
set(VMR_LAYER_DEPS_image           PUBLIC util)
set(VMR_LAYER_DEPS_planner         PUBLIC model hypervisor_seam util)
set(VMR_LAYER_DEPS_import          PUBLIC model hypervisor_seam PRIVATE util)
set(VMR_LAYER_DEPS_applier         PUBLIC planner hypervisor_seam store model util)
set(VMR_LAYER_DEPS_cli             PRIVATE applier import planner hypervisor image store spec model
                                           util)

# Which layer owns each public header include/virtumancer/<name>.hpp (the include check
# refuses a header that is not listed here).
set(VMR_HEADERS_util diag actor hash xml_string interrupt parallel parse_int digest iso9660
                      cloud_init)
set(VMR_HEADERS_model model descriptors xml_codec coverage)
set(VMR_HEADERS_spec spec)
set(VMR_HEADERS_store database store migrations sql access_store)
set(VMR_HEADERS_hypervisor_seam hypervisor)
set(VMR_HEADERS_hypervisor)
set(VMR_HEADERS_image image)
set(VMR_HEADERS_planner planner usage plan_step access)
set(VMR_HEADERS_import import_xml)
set(VMR_HEADERS_applier applier)
set(VMR_HEADERS_cli)

# The sources of the seam; every other file of src/hypervisor/ is the adapter.
set(VMR_SEAM_SOURCES
  ${CMAKE_SOURCE_DIR}/src/hypervisor/observed_host.cpp
  ${CMAKE_SOURCE_DIR}/src/hypervisor/live_strip.cpp)

# virtumancer_layer(<layer> [SOURCES extra...] [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
function(virtumancer_layer layer)
  cmake_parse_arguments(L "" "" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  if(layer STREQUAL "hypervisor_seam")
    set(srcs ${VMR_SEAM_SOURCES})
  else()
    file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${layer}/*.cpp)
    if(layer STREQUAL "hypervisor")
      list(REMOVE_ITEM srcs ${VMR_SEAM_SOURCES})
    elseif(layer STREQUAL "cli")
      list(REMOVE_ITEM srcs ${CMAKE_SOURCE_DIR}/src/cli/main.cpp)
    endif()
  endif()
  set(t virtumancer_${layer})
  add_library(${t} STATIC ${srcs} ${L_SOURCES})
  target_include_directories(${t} PUBLIC ${CMAKE_SOURCE_DIR}/include)
  set(scope PUBLIC)
  foreach(d IN LISTS VMR_LAYER_DEPS_${layer})
    if(d STREQUAL "PUBLIC" OR d STREQUAL "PRIVATE")
      set(scope ${d})
    else()
      target_link_libraries(${t} ${scope} virtumancer_${d})
    endif()
  endforeach()
  target_link_libraries(${t} PUBLIC ${L_PUBLIC_LIBS} PRIVATE ${L_PRIVATE_LIBS})
endfunction()
