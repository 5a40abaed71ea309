// SPDX-License-Identifier: LGPL-2.1-or-later
/* Why oneDNN and not ATen's BLAS: Debian's OpenBLAS 0.3.21 does not
 * recognise recent Xeons and falls back to its SSE3 (Prescott) kernels,
 * 4-5x slower than oneDNN's JIT kernels on the GEMM shapes of these models.
 * Under Valgrind the function is withheld: the JIT kernels read up to 32
 * bytes past their own packing buffers (harmless, but memcheck would report
 * it in every test). */
#include "onednn_sgemm.h"

#include <dlfcn.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif

namespace neuro {
namespace tfm {

SgemmFn
onednn_sgemm ()
{
  static const SgemmFn fn = [] () -> SgemmFn {
#ifdef RUNNING_ON_VALGRIND
    if (RUNNING_ON_VALGRIND)
      return nullptr;
#endif
    void *lib = dlopen ("libdnnl.so.2", RTLD_NOW | RTLD_NOLOAD);
    if (!lib)
      lib = dlopen ("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    return lib ? reinterpret_cast<SgemmFn> (dlsym (lib, "dnnl_sgemm")) : nullptr;
  }();
  return fn;
}

}  // namespace tfm
}  // namespace neuro
