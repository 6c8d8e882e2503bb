/* ctest.h: the harness of the C unit tests in tests/csrc.  CHECK(cond, fmt,
 * ...) counts a failure and says where and why; ctest_report() ends main:
 * "ok" and exit status 0, or the count of failures and 1 (what _cbuild.py
 * looks for). */
#ifndef FAXENGINE_CTEST_H
#define FAXENGINE_CTEST_H

#include <stdio.h>

static int ctest_failures;

#define CHECK(cond, ...)                                         \
    do {                                                         \
        if (!(cond)) {                                           \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fprintf(stderr, "\n");                               \
            ctest_failures++;                                    \
        }                                                        \
    } while (0)

static int ctest_report(void)
{
    if (ctest_failures) {
        printf("%d failures\n", ctest_failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}

#endif
