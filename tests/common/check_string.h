// SPDX-License-Identifier: LGPL-2.1-or-later
/* String assertions for std::string values. fail_unless_equals_string()
 * stores its arguments as const char * in locals of its own statement, so
 * passing `f ().c_str ()` of a temporary leaves it reading freed memory (found
 * by ASan); this macro keeps copies of the strings for the comparison. */
#pragma once

/* Include after <gst/check/gstcheck.h>, which provides fail_unless (). */
#include <string>

#define fail_unless_equals_std_string(a, b) G_STMT_START {                      \
    const std::string neuro_first_ = (a), neuro_second_ = (b);                   \
    fail_unless (neuro_first_ == neuro_second_,                                  \
        "'" #a "' (\"%s\") is not equal to '" #b "' (\"%s\")",                   \
        neuro_first_.c_str (), neuro_second_.c_str ());                         \
  } G_STMT_END
