# need(path type): the result file's JSON (${json}, read from ${OUT}) has a value
# of that type at path (a ;-list of keys and indices), else a fatal error.
macro(need path type)
  string(JSON t ERROR_VARIABLE err TYPE "${json}" ${path})
  if(err OR NOT t STREQUAL "${type}")
    string(REPLACE ";" "." p "${path}")
    message(FATAL_ERROR "${OUT}: ${p} is ${t} (${err}), expected ${type}")
  endif()
endmacro()
