# tc_trace_slices(FILE): reads a Chrome trace written by tc_prof_write_trace with
# CMake's own JSON parser (an error if it is not JSON with traceEvents) and counts
# its complete ("X") slices into the caller's variables: TRACE_EVENTS (all
# events), TRACE_<cat> (slices of a category: launch, op, scope; 0 if none) and
# TRACE_<cat>_<name> (name made a C identifier: "first pass" -> first_pass; unset
# if none);
# TRACE_KEYS lists the TRACE_<cat>_<name> variables set.
function(tc_trace_slices file)
  file(READ ${file} trace)
  string(JSON nev ERROR_VARIABLE jerr LENGTH "${trace}" traceEvents)
  if(jerr OR nev EQUAL 0)
    message(FATAL_ERROR "${file} is not a trace with traceEvents: ${jerr}")
  endif()
  set(keys TRACE_launch TRACE_op TRACE_scope) # 0 when there are none
  foreach(key ${keys})
    set(${key} 0)
  endforeach()
  math(EXPR last "${nev} - 1")
  foreach(i RANGE ${last})
    string(JSON ph GET "${trace}" traceEvents ${i} ph)
    if(ph STREQUAL "X")
      string(JSON cat GET "${trace}" traceEvents ${i} cat)
      string(JSON name GET "${trace}" traceEvents ${i} name)
      string(MAKE_C_IDENTIFIER "TRACE_${cat}_${name}" key)
      if(NOT DEFINED ${key})
        list(APPEND keys ${key})
        set(${key} 0)
      endif()
      if(NOT DEFINED TRACE_${cat})
        list(APPEND keys TRACE_${cat})
        set(TRACE_${cat} 0)
      endif()
      math(EXPR ${key} "${${key}} + 1")
      math(EXPR TRACE_${cat} "${TRACE_${cat}} + 1")
    endif()
  endforeach()
  foreach(key ${keys})
    set(${key} ${${key}} PARENT_SCOPE)
  endforeach()
  set(TRACE_EVENTS ${nev} PARENT_SCOPE)
  set(TRACE_KEYS ${keys} PARENT_SCOPE)
endfunction()
