# Warnings: -Wall -Wextra -Werror, plus every -Werror= flag from the list
# below that this compiler accepts (probed, as bubblewrap's meson.build does),
# so an older or newer gcc/clang still builds.
include(CheckCCompilerFlag)

add_compile_options(-Wall -Wextra -Werror)

set(AGORA_PROBED_WARNINGS
    -Werror=shadow
    -Werror=missing-prototypes
    -Werror=strict-prototypes
    -Werror=format=2
    -Werror=format-security
    -Werror=implicit-fallthrough
    -Werror=implicit-function-declaration
    -Werror=incompatible-pointer-types
    -Werror=int-conversion
    -Werror=return-type
    -Werror=pointer-arith
    -Werror=init-self
    -Werror=missing-include-dirs
    -Werror=undef
    -Werror=vla
    -Werror=write-strings
    -Werror=old-style-definition
    -Werror=redundant-decls
    -Werror=date-time
    -Werror=null-dereference
    -Werror=misleading-indentation)

foreach(flag ${AGORA_PROBED_WARNINGS})
  string(MAKE_C_IDENTIFIER "HAVE_C${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    add_compile_options(${flag})
  endif()
endforeach()

# Hardening that costs nothing at run time.
# _FORTIFY_SOURCE needs optimisation, and glibc's #warning would fail a -O0
# build under -Werror; the sanitizers replace it in AGORA_SANITIZE builds.
add_compile_options(-fstack-protector-strong -fno-strict-aliasing)
if(NOT AGORA_SANITIZE)
  add_compile_options($<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
endif()
