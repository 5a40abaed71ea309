// SPDX-License-Identifier: LGPL-2.1-or-later
/* oneDNN's row-major sgemm, looked up at run time in the libdnnl that
 * LibTorch already loads (no link-time dependency, no LibTorch headers). */
#pragma once

#include <cstdint>

namespace neuro {
namespace tfm {

/* dnnl_sgemm: C = alpha op(A) op(B) + beta C, row-major, 'N' or 'T'. */
using SgemmFn = int (*) (char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
    int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

/* Null when libdnnl is absent or the process runs under Valgrind. */
SgemmFn onednn_sgemm ();

}  // namespace tfm
}  // namespace neuro
