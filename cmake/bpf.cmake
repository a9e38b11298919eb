# Builds eBPF objects and their libbpf skeletons.
#
#   add_bpf_skeleton(NAME <name> SOURCE bpf/<file>.bpf.c [DEFINES MACRO[=VALUE]...])
#
# compiles SOURCE (with -D for each of DEFINES: one source may build several variants) with clang (-target bpf, CO-RE against the running kernel's BTF), links it with
# `bpftool gen object` and generates `<name>.skel.h` (skeleton name `npv_<name>`) in
# NPV_BPF_GEN_DIR. It defines the target `npv_bpf_<name>`: add it as a dependency of the C++
# target that includes the skeleton, and NPV_BPF_GEN_DIR to that target's include path.
#
# vmlinux.h is generated once per build directory from NPV_BPF_VMLINUX_BTF; delete
# ${NPV_BPF_GEN_DIR}/vmlinux.h to regenerate it after a kernel upgrade.

find_program(NPV_BPF_CLANG NAMES clang-19 clang REQUIRED
             DOC "clang with the BPF target (Debian: clang-19)")
find_program(NPV_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED
             DOC "bpftool >= 7 (Debian: bpftool)")
set(NPV_BPF_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH
    "Kernel BTF that vmlinux.h is generated from")
set(NPV_BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i.86)$")
  set(NPV_BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(NPV_BPF_TARGET_ARCH arm64)
else()
  set(NPV_BPF_TARGET_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

file(MAKE_DIRECTORY ${NPV_BPF_GEN_DIR})
add_custom_command(
  OUTPUT ${NPV_BPF_GEN_DIR}/vmlinux.h
  COMMAND sh -c "'${NPV_BPFTOOL}' btf dump file '${NPV_BPF_VMLINUX_BTF}' format c > vmlinux.h.tmp"
  COMMAND ${CMAKE_COMMAND} -E rename vmlinux.h.tmp vmlinux.h
  WORKING_DIRECTORY ${NPV_BPF_GEN_DIR}
  COMMENT "Generating vmlinux.h from ${NPV_BPF_VMLINUX_BTF}"
  VERBATIM)

function(add_bpf_skeleton)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;SOURCE" "DEFINES")
  if(NOT arg_NAME OR NOT arg_SOURCE OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "usage: add_bpf_skeleton(NAME <name> SOURCE <file>.bpf.c [DEFINES ...])")
  endif()
  list(TRANSFORM arg_DEFINES PREPEND -D)
  set(src ${PROJECT_SOURCE_DIR}/${arg_SOURCE})
  set(out ${NPV_BPF_GEN_DIR}/${arg_NAME})
  # -g keeps the BTF that CO-RE and the skeleton need; the depfile tracks bpf/lib and abi headers.
  add_custom_command(
    OUTPUT ${out}.tmp.o
    COMMAND ${NPV_BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${NPV_BPF_TARGET_ARCH} -D__BPF__
            -Wall -Wno-unused-function ${arg_DEFINES}
            -I${NPV_BPF_GEN_DIR} -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}/bpf
            -MD -MF ${out}.d -c ${src} -o ${out}.tmp.o
    DEPENDS ${src} ${NPV_BPF_GEN_DIR}/vmlinux.h
    DEPFILE ${out}.d
    COMMENT "Compiling BPF object ${arg_NAME} (${arg_SOURCE})"
    VERBATIM)
  add_custom_command(
    OUTPUT ${out}.bpf.o ${out}.skel.h
    COMMAND ${NPV_BPFTOOL} gen object ${out}.bpf.o ${out}.tmp.o
    COMMAND sh -c "'${NPV_BPFTOOL}' gen skeleton '${out}.bpf.o' name 'npv_${arg_NAME}' > '${out}.skel.h.tmp'"
    COMMAND ${CMAKE_COMMAND} -E rename ${out}.skel.h.tmp ${out}.skel.h
    DEPENDS ${out}.tmp.o
    COMMENT "Generating BPF skeleton ${arg_NAME}.skel.h"
    VERBATIM)
  add_custom_target(npv_bpf_${arg_NAME} DEPENDS ${out}.skel.h)
endfunction()
