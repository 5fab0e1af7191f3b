# QuickJS as a static, position-independent library with hidden visibility, built from Debian's
# quickjs source package (fetched and SHA-256-verified by scripts/fetch-quickjs, cached outside
# git). CHOS_QUICKJS_TARBALL takes a local copy of the same tarball for offline builds.
# No quickjs-libc: the sandbox offers no std/os modules.
set(CHOS_QUICKJS_TARBALL "" CACHE FILEPATH "Local quickjs_2025.04.26.orig.tar.xz (offline builds)")
set(CHOS_QUICKJS_SHA256 "ec81da5b3249ed648dbc7df4a1654988910e66a118d9b71cb63534216efcfbbe")
set(CHOS_QUICKJS_VERSION "2025-04-26")

if(CHOS_QUICKJS_TARBALL)
  set(_qjs_tarball "${CHOS_QUICKJS_TARBALL}")
else()
  execute_process(
    COMMAND "${PROJECT_SOURCE_DIR}/scripts/fetch-quickjs"
    OUTPUT_VARIABLE _qjs_tarball OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _qjs_rc)
  if(NOT _qjs_rc EQUAL 0)
    message(FATAL_ERROR "scripts/fetch-quickjs failed; pass -DCHOS_QUICKJS_TARBALL=... to build offline")
  endif()
endif()
file(SHA256 "${_qjs_tarball}" _qjs_sum)
if(NOT _qjs_sum STREQUAL CHOS_QUICKJS_SHA256)
  message(FATAL_ERROR "${_qjs_tarball}: SHA-256 ${_qjs_sum} is not the pinned ${CHOS_QUICKJS_SHA256}")
endif()

set(_qjs_dir "${CMAKE_BINARY_DIR}/quickjs-2025.04.26")
if(NOT EXISTS "${_qjs_dir}/quickjs.c")
  file(ARCHIVE_EXTRACT INPUT "${_qjs_tarball}" DESTINATION "${CMAKE_BINARY_DIR}")
endif()

add_library(quickjs STATIC
  ${_qjs_dir}/quickjs.c ${_qjs_dir}/libregexp.c ${_qjs_dir}/libunicode.c
  ${_qjs_dir}/cutils.c ${_qjs_dir}/dtoa.c)
target_include_directories(quickjs SYSTEM PUBLIC "${_qjs_dir}")
target_compile_definitions(quickjs PRIVATE _GNU_SOURCE CONFIG_VERSION="${CHOS_QUICKJS_VERSION}")
target_compile_options(quickjs PRIVATE -O2 -fwrapv -funsigned-char -w)
set_target_properties(quickjs PROPERTIES
  POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
target_link_libraries(quickjs PUBLIC m)
