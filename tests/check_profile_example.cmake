# examples/profile_model: exits 0 with its check passed and the memory peak printed,
# and TRACE parses as JSON (CMake's own parser) with traceEvents holding a slice for
# each of its scopes and ops (the forward scope once per pass) and, on an OpenCL
# device, launch slices. Run with -DEXAMPLE=<binary> -DTRACE=<trace file>
# -DDEVICE=<device>.
file(REMOVE ${TRACE})
execute_process(COMMAND ${CMAKE_COMMAND} -E env TINYCL_DEVICE=${DEVICE} ${EXAMPLE} ${TRACE}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "profile_model exited ${rc}")
endif()
foreach(want "matches a plain C forward pass" "\nuser scope +calls" "\nmemory peak: [1-9][0-9]* bytes" "\ntrace: ")
  if(NOT out MATCHES "${want}")
    message(FATAL_ERROR "profile_model's output lacks '${want}'")
  endif()
endforeach()
include(${CMAKE_CURRENT_LIST_DIR}/cli/trace_slices.cmake)
tc_trace_slices(${TRACE})
set(missing "")
foreach(want scope_upload=1 scope_first_pass=1 scope_forward=5 scope_layer1=6 scope_layer2=6 scope_readback=1
             scope_check_on_host=1 op_linear=12 op_relu=6 op_softmax=6)
  string(REPLACE "=" ";" kv ${want})
  list(GET kv 0 key)
  list(GET kv 1 n)
  if(NOT "${TRACE_${key}}" STREQUAL "${n}")
    string(APPEND missing " ${key}: ${TRACE_${key}} slices, expected ${n};")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "${TRACE}:${missing}")
endif()
set(launches ${TRACE_launch})
if(NOT DEVICE STREQUAL "ref" AND launches EQUAL 0)
  message(FATAL_ERROR "${TRACE}: no launch slices on ${DEVICE}")
endif()
message(STATUS "trace ok: ${TRACE_EVENTS} events, ${launches} launch slices, every scope and op")
