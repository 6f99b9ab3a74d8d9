# GenCompletions.cmake — writes the bash and zsh completion scripts at build
# time from the built CLI (`ecorisk completion bash|zsh`, generated from the
# option tables like the man pages). Run as:
#   cmake -DECORISK=<exe> -DOUT=<dir> -P GenCompletions.cmake
if(NOT ECORISK OR NOT OUT)
  message(FATAL_ERROR "GenCompletions.cmake: ECORISK and OUT are required")
endif()
file(MAKE_DIRECTORY "${OUT}")
foreach(pair "bash;ecorisk" "zsh;_ecorisk")
  list(GET pair 0 shell)
  list(GET pair 1 file)
  execute_process(COMMAND "${ECORISK}" completion ${shell} OUTPUT_FILE "${OUT}/${file}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ecorisk completion ${shell} failed (${rc})")
  endif()
endforeach()
