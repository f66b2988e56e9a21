# Builds a CO-RE BPF object with clang and embeds it as a libbpf skeleton header.
#   ritma_bpf_skeleton(NAME SOURCE) -> ${CMAKE_CURRENT_BINARY_DIR}/bpf/NAME.skel.h
# vmlinux.h is generated from this machine's kernel BTF (/sys/kernel/btf/vmlinux); CO-RE
# relocations make the object run on other kernels with BTF.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
find_program(LLVM_STRIP NAMES llvm-strip llvm-strip-14 REQUIRED)
set(RITMA_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH "Kernel BTF used to generate vmlinux.h")
if(NOT EXISTS ${RITMA_VMLINUX_BTF})
  message(FATAL_ERROR "${RITMA_VMLINUX_BTF} not found: the sensor needs a kernel with BTF "
                      "(CONFIG_DEBUG_INFO_BTF=y)")
endif()
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(RITMA_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(RITMA_BPF_ARCH arm64)
else()
  message(FATAL_ERROR "no BPF target arch for ${CMAKE_SYSTEM_PROCESSOR}")
endif()

set(RITMA_BPF_OUT ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${RITMA_BPF_OUT})
# Generated at configure time (it depends only on the kernel, not on the sources).
if(NOT EXISTS ${RITMA_BPF_OUT}/vmlinux.h)
  execute_process(COMMAND ${BPFTOOL} btf dump file ${RITMA_VMLINUX_BTF} format c
                  OUTPUT_FILE ${RITMA_BPF_OUT}/vmlinux.h.tmp RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "bpftool could not dump ${RITMA_VMLINUX_BTF} (exit ${rc})")
  endif()
  file(RENAME ${RITMA_BPF_OUT}/vmlinux.h.tmp ${RITMA_BPF_OUT}/vmlinux.h)
endif()

function(ritma_bpf_skeleton name source)
  get_filename_component(src_dir ${source} DIRECTORY)
  set(obj ${RITMA_BPF_OUT}/${name}.bpf.o)
  set(skel ${RITMA_BPF_OUT}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPF_CLANG} -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_${RITMA_BPF_ARCH}
            -I${RITMA_BPF_OUT} -I${src_dir} -c ${source} -o ${obj}
    COMMAND ${LLVM_STRIP} -g ${obj}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${source} ${src_dir}/sensor_event.h ${RITMA_BPF_OUT}/vmlinux.h
    COMMENT "Compiling BPF ${name} and generating its skeleton")
  add_custom_target(${name}_skel DEPENDS ${skel})
endfunction()
