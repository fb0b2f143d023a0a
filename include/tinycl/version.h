/* The library's version and the commit it was built from. */
#ifndef TINYCL_VERSION_H
#define TINYCL_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* "0.1.0" */
const char *tc_version(void);
/* Short git commit of the source at configure time ("-dirty" when it had local
 * changes), or "unknown" when built outside a git checkout. */
const char *tc_git_commit(void);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
