# cmake -DNM=<nm> -DARCHIVES=<a.a>,<b.a>,... -P cmake/check_symbols.cmake
# Fails when one of the archives references or defines a libvirt (vir[A-Z]...) or SQLite
# (sqlite3_...) symbol, or one of libcurl (curl_...: downloads are I/O of the image layer), naming
# the archive, the object and the symbol. OpenSSL's digests (EVP_...) are pure and live in util.
# ctest runs it on the
# layers that must stay free of both (test layering_symbols) and on a known-bad archive
# (test layering_symbols_detects_bad).
cmake_minimum_required(VERSION 3.25)
if(NOT NM OR NOT ARCHIVES)
  message(FATAL_ERROR "check_symbols.cmake: -DNM=<nm> -DARCHIVES=<a.a>,... are required")
endif()
string(REPLACE "," ";" archives "${ARCHIVES}")
set(found)
foreach(a IN LISTS archives)
  if(NOT EXISTS ${a})
    message(FATAL_ERROR "check_symbols.cmake: ${a} does not exist (build first)")
  endif()
  execute_process(COMMAND ${NM} -A ${a} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "check_symbols.cmake: ${NM} -A ${a} failed (${rc})")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  foreach(line IN LISTS lines)
    # archive:object: [address] type symbol
    if(line MATCHES "^([^ ]+):[ 0-9a-f]* ([A-Za-z]) ((vir[A-Z]|sqlite3_|curl_)[A-Za-z0-9_]*)$")
      list(APPEND found "${CMAKE_MATCH_1}: ${CMAKE_MATCH_3} (${CMAKE_MATCH_2})")
    endif()
  endforeach()
endforeach()
if(found)
  list(LENGTH found n)
  foreach(f IN LISTS found)
    message(NOTICE "${f}")
  endforeach()
  message(FATAL_ERROR "layering: ${n} libvirt/SQLite symbol(s) above in a layer that must use neither")
endif()
message(STATUS "no libvirt or SQLite symbol in ${ARCHIVES}")
