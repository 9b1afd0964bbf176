# Writes the version header: the project version from CMake and the git
# revision the tree was built from. Run at every build (a custom target), so
# a commit after configuring still shows up; configure_file() rewrites the
# header only when its text changes, so an unchanged revision rebuilds nothing.
#   cmake -DSOURCE_DIR=... -DINPUT=Version.hpp.in -DOUTPUT=.../Version.hpp
#         -DTVF_VERSION=x.y.z -P GenerateVersion.cmake
# Outside a git checkout (a release tarball) the revision is "unknown".
set(TVF_GIT_REVISION unknown)
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} rev-parse --short=12 HEAD
                  RESULT_VARIABLE rc OUTPUT_VARIABLE rev ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(rc EQUAL 0 AND rev)
    set(TVF_GIT_REVISION ${rev})
    # Uncommitted changes to tracked files: say so, the binary is not that commit.
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} diff-index --quiet HEAD --
                    RESULT_VARIABLE dirty ERROR_QUIET)
    if(NOT dirty EQUAL 0)
      string(APPEND TVF_GIT_REVISION "-dirty")
    endif()
  endif()
endif()
configure_file(${INPUT} ${OUTPUT} @ONLY)
