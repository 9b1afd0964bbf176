# tvf_version: an interface target whose include path holds the generated
# tvf/Version.hpp (project version + git revision). The header is refreshed
# at every build by cmake/GenerateVersion.cmake.
set(_tvf_version_dir ${PROJECT_BINARY_DIR}/generated)
set(_tvf_version_hpp ${_tvf_version_dir}/tvf/Version.hpp)
add_custom_target(tvf_version_header
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DINPUT=${PROJECT_SOURCE_DIR}/cmake/Version.hpp.in -DOUTPUT=${_tvf_version_hpp}
          -DTVF_VERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/GenerateVersion.cmake
  BYPRODUCTS ${_tvf_version_hpp}
  COMMENT "tvf version header (git revision)"
  VERBATIM)
add_library(tvf_version INTERFACE)
target_include_directories(tvf_version INTERFACE ${_tvf_version_dir})
add_dependencies(tvf_version tvf_version_header)
