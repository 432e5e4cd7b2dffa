/* What deploys with a target (the report's deploy_size_bytes): the app — the
 * folder its size on disk counts — plus the runtime it loads, measured rather
 * than guessed: every regular file the target's processes map at ready (the
 * interpreter or runtime, its shared libraries, Java's module image and class
 * data archive, .NET's assemblies), over all its ready runs. Two runtimes are
 * installed as folders their process only partly maps, and deploy whole:
 *
 *   - a .NET shared framework, DOTNET_ROOT/shared/NAME/VERSION/: a
 *     framework-dependent app needs the folder installed, not only the
 *     assemblies start-up loaded;
 *   - Python's standard library, the folder holding lib-dynload/: its pure
 *     Python modules are read, not mapped. Without site-packages and
 *     dist-packages (third-party packages, the app's own business), test
 *     (the test suite) and config-3.X-* (libpython's static library for
 *     building extensions), which distributions ship apart.
 *
 * Node's built-in modules are inside its binary, which is mapped. */
#ifndef COLDSTART_DEPLOY_H
#define COLDSTART_DEPLOY_H

#include <stdint.h>

#include "profiler/measure/pagecache.h"

/* Bytes that deploy: app_bytes (the app folder's size, or REP_NONE when
 * there is none) plus the files of `mapped` outside app_dir (NULL: none),
 * with the runtime folders above added whole. Each file counts once.
 * Returns -1 when out of memory. */
int64_t prof_deploy_bytes(const char *app_dir, int64_t app_bytes,
                          const struct prof_fileset *mapped);

#endif
