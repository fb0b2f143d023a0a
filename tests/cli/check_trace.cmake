# `tinycl bench OP --profile on --trace FILE`: FILE parses as JSON (CMake's own
# parser) and holds exactly one launch slice per kernel launch that the profile
# report counts. Run with -DTINYCL=<cli> -DOUT=<trace file> -DDEVICE=<device>.
execute_process(
  COMMAND ${TINYCL} bench matmul --device ${DEVICE} --sizes 33x20x10,1x64x64 --variants ref,cpu,gemv,clblast
          --reps 3 --profile on --trace ${OUT}
  OUTPUT_VARIABLE report ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tinycl bench failed (${rc}):\n${report}\n${err}")
endif()
# launches column of the report's op rows: "matmul  cpu  calls launches ..."
string(REGEX MATCHALL "\nmatmul +[a-z]+ +[0-9]+ +[0-9]+" rows "${report}")
set(want 0)
foreach(row ${rows})
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" n "${row}")
  math(EXPR want "${want} + ${n}")
endforeach()
include(${CMAKE_CURRENT_LIST_DIR}/trace_slices.cmake)
tc_trace_slices(${OUT})
set(got ${TRACE_launch})
set(ops ${TRACE_op})
if(NOT got EQUAL want OR want EQUAL 0 OR ops EQUAL 0)
  message(FATAL_ERROR "${OUT}: ${got} launch slices and ${ops} op slices; the report counts ${want} launches")
endif()
message(STATUS "trace ok: ${got} launch slices, ${ops} op slices")
