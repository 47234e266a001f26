# cmake -DCMD=<arg>@@<arg>... -DEXPECT=<regex>@@<regex>... -P cmake/expect_failure.cmake
# Runs CMD and passes only when it fails and its output matches every EXPECT regex: the tests
# of the layering checks run them on known-bad input with this.
cmake_minimum_required(VERSION 3.25)
string(REPLACE "@@" ";" cmd "${CMD}")
string(REPLACE "@@" ";" expect "${EXPECT}")
execute_process(COMMAND ${cmd} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
set(all "${out}${err}")
message(STATUS "output of the check:\n${all}")
if(rc EQUAL 0)
  message(FATAL_ERROR "the check passed on known-bad input")
endif()
foreach(re IN LISTS expect)
  if(NOT all MATCHES "${re}")
    message(FATAL_ERROR "the check failed but its output does not match: ${re}")
  endif()
endforeach()
