# Installs aio into a scratch prefix, then configures, builds and runs a tiny
# consumer that uses find_package(aio). Run with cmake -P (see tests/CMakeLists.txt).
file(REMOVE_RECURSE ${AIO_WORK})
set(prefix ${AIO_WORK}/prefix)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()
run(${CMAKE_COMMAND} -S ${AIO_SOURCE} -B ${AIO_WORK}/aio-build -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_CXX_COMPILER=${CXX} -DAIO_BUILD_TESTS=OFF -DAIO_BUILD_EXAMPLES=OFF -DAIO_BUILD_BENCH=OFF
    -DCMAKE_INSTALL_PREFIX=${prefix})
run(${CMAKE_COMMAND} --build ${AIO_WORK}/aio-build -j2)
run(${CMAKE_COMMAND} --install ${AIO_WORK}/aio-build)
if(EXISTS ${prefix}/lib/libaio.a OR EXISTS ${prefix}/lib/libaio.so)
  message(FATAL_ERROR "the installed archive must not be called libaio (Linux's kernel AIO library)")
endif()
run(${CMAKE_COMMAND} -S ${AIO_SOURCE}/tests/install_consumer -B ${AIO_WORK}/consumer-build
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${AIO_WORK}/consumer-build)
run(${AIO_WORK}/consumer-build/consumer)
if(NOT last_output MATCHES "consumer: 3 results in 1 s")
  message(FATAL_ERROR "unexpected consumer output: ${last_output}")
endif()
message(STATUS "install consumer: ${last_output}")
