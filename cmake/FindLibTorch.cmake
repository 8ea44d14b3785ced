# FindLibTorch
# ------------
# Locates LibTorch and defines the imported target LibTorch::LibTorch.
#
# Search order:
#   1. Torch_DIR                 (a TorchConfig.cmake folder)
#   2. LIBTORCH_ROOT / $LIBTORCH (an unpacked libtorch distribution)
#   3. TORCH_PYTHON / $TORCH_PYTHON / python3: torch.utils.cmake_prefix_path of a PyTorch wheel
#
# Result variables: LibTorch_FOUND, LibTorch_ROOT (the folder holding lib/ and include/),
# LibTorch_LIBRARY_DIR, LibTorch_WITH_CUDA.
#
# Why not always find_package(Torch)? The PyPI wheel is built with CUDA, and its TorchConfig
# refuses to configure on a machine without a CUDA toolkit. On such machines we link the CPU
# libraries of the same wheel directly; where nvcc is present, TorchConfig is used as is.

if(NOT Torch_DIR)
  if(NOT LIBTORCH_ROOT AND DEFINED ENV{LIBTORCH})
    set(LIBTORCH_ROOT "$ENV{LIBTORCH}")
  endif()
  if(LIBTORCH_ROOT)
    set(Torch_DIR "${LIBTORCH_ROOT}/share/cmake/Torch")
  else()
    if(NOT TORCH_PYTHON AND DEFINED ENV{TORCH_PYTHON})
      set(TORCH_PYTHON "$ENV{TORCH_PYTHON}")
    endif()
    if(NOT TORCH_PYTHON)
      find_program(TORCH_PYTHON NAMES python3 python)
    endif()
    execute_process(
      COMMAND "${TORCH_PYTHON}" -c "import torch, sys; sys.stdout.write(torch.utils.cmake_prefix_path)"
      OUTPUT_VARIABLE _torch_prefix RESULT_VARIABLE _torch_rc ERROR_QUIET)
    if(NOT _torch_rc EQUAL 0)
      message(FATAL_ERROR "LibTorch not found: set Torch_DIR, LIBTORCH_ROOT, or TORCH_PYTHON to a python "
                          "with torch installed (scripts/setup-toolchain.sh creates one). Tried: ${TORCH_PYTHON}")
    endif()
    set(Torch_DIR "${_torch_prefix}/Torch")
  endif()
endif()

get_filename_component(LibTorch_ROOT "${Torch_DIR}/../../.." ABSOLUTE)
set(LibTorch_LIBRARY_DIR "${LibTorch_ROOT}/lib")
if(NOT EXISTS "${LibTorch_LIBRARY_DIR}/libtorch_cpu.so")
  message(FATAL_ERROR "LibTorch not found: no lib/libtorch_cpu.so under ${LibTorch_ROOT} (from Torch_DIR=${Torch_DIR})")
endif()

set(LibTorch_WITH_CUDA OFF)
if(EXISTS "${LibTorch_LIBRARY_DIR}/libtorch_cuda.so")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(LibTorch_WITH_CUDA ON)
  endif()
endif()

if(NOT TARGET LibTorch::LibTorch)
  add_library(LibTorch::LibTorch INTERFACE IMPORTED)
  if(LibTorch_WITH_CUDA)
    find_package(Torch CONFIG REQUIRED)
    target_link_libraries(LibTorch::LibTorch INTERFACE ${TORCH_LIBRARIES})
    target_compile_definitions(LibTorch::LibTorch INTERFACE THERAPEIA_WITH_CUDA=1)
  else()
    # CPU only: the ATen/c10 libraries of the same distribution, no CUDA toolkit needed.
    target_include_directories(LibTorch::LibTorch SYSTEM INTERFACE
      "${LibTorch_ROOT}/include" "${LibTorch_ROOT}/include/torch/csrc/api/include")
    target_link_libraries(LibTorch::LibTorch INTERFACE
      "${LibTorch_LIBRARY_DIR}/libtorch_cpu.so" "${LibTorch_LIBRARY_DIR}/libc10.so")
    # The wheels since torch 2.7 use the C++11 ABI.
    target_compile_definitions(LibTorch::LibTorch INTERFACE _GLIBCXX_USE_CXX11_ABI=1)
  endif()
  # at::parallel_for is a header template over `#pragma omp parallel`: without -fopenmp our own
  # parallel loops silently run on one thread. Link the OpenMP runtime LibTorch ships (same
  # soname), so that one thread pool serves LibTorch and us.
  target_compile_options(LibTorch::LibTorch INTERFACE -fopenmp)
  if(EXISTS "${LibTorch_LIBRARY_DIR}/libgomp.so.1")
    target_link_libraries(LibTorch::LibTorch INTERFACE "${LibTorch_LIBRARY_DIR}/libgomp.so.1")
  else()
    target_link_options(LibTorch::LibTorch INTERFACE -fopenmp)
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibTorch REQUIRED_VARS LibTorch_ROOT LibTorch_LIBRARY_DIR)
