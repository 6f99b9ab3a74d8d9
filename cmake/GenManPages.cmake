# GenManPages.cmake — writes the man pages at build time from the built CLI:
# ecorisk.1 from `ecorisk man`, and ecorisk-<command>.1 for every command that
# `ecorisk man --list` names (two-word commands become ecorisk-baseline-build.1).
# The pages come from each command's option table, so they cannot drift from
# --help. Run as: cmake -DECORISK=<exe> -DOUT=<dir> -DSTAMP=<file> -P GenManPages.cmake
if(NOT ECORISK OR NOT OUT OR NOT STAMP)
  message(FATAL_ERROR "GenManPages.cmake: ECORISK, OUT and STAMP are required")
endif()
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")

function(gen_page file)
  execute_process(COMMAND "${ECORISK}" man ${ARGN}
                  OUTPUT_FILE "${OUT}/${file}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ecorisk man ${ARGN} failed (${rc})")
  endif()
  file(STRINGS "${OUT}/${file}" first LIMIT_COUNT 1)
  if(NOT first MATCHES "^\\.TH ")
    message(FATAL_ERROR "ecorisk man ${ARGN}: output does not start with .TH")
  endif()
endfunction()

gen_page(ecorisk.1)
execute_process(COMMAND "${ECORISK}" man --list OUTPUT_VARIABLE names RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ecorisk man --list failed (${rc})")
endif()
string(REPLACE "\n" ";" names "${names}")
set(n 0)
foreach(name IN LISTS names)
  if(name STREQUAL "")
    continue()
  endif()
  string(REPLACE " " ";" words "${name}")
  string(REPLACE " " "-" base "${name}")
  gen_page("ecorisk-${base}.1" ${words})
  math(EXPR n "${n} + 1")
endforeach()
if(n EQUAL 0)
  message(FATAL_ERROR "ecorisk man --list named no command")
endif()
file(WRITE "${STAMP}" "${n}\n")
