/* Version and build commit (cmake/build_info.h.in). */
#include "build_info.h"
#include "core/internal.h"

const char *tc_version(void) { return TC_VERSION_STRING; }
const char *tc_git_commit(void) { return TC_GIT_COMMIT; }
