/* The page-cache file sets: a file met once and opened again later by name
 * (as root, from a path a target mapped) is that very file or nothing. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "profiler/measure/pagecache.h"

int main(void)
{
    char dir[] = "/tmp/coldstart-pagecache-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[256], other[256];
    snprintf(file, sizeof file, "%s/lib.so", dir);
    snprintf(other, sizeof other, "%s/secret", dir);
    int fd = open(file, O_CREAT | O_WRONLY, 0644);
    char page[4096] = {1};
    CHECK(fd >= 0 && write(fd, page, sizeof page) == (ssize_t)sizeof page);
    close(fd);

    struct prof_fileset fs = {0};
    CHECK(prof_fileset_add(&fs, file) == 0 && fs.n == 1);
    CHECK(prof_fileset_cached_bytes(&fs) == 4096); /* just written: in the cache */

    /* Replaced by a FIFO: opening it for reading would block for ever. */
    CHECK(unlink(file) == 0 && mkfifo(file, 0644) == 0);
    alarm(10); /* a hang fails the test instead of stalling it */
    CHECK(prof_fileset_cached_bytes(&fs) == 0);
    prof_fileset_evict(&fs);
    /* Replaced by a link to another file, then by another file of that name. */
    fd = open(other, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0 && write(fd, page, sizeof page) == (ssize_t)sizeof page);
    close(fd);
    CHECK(unlink(file) == 0 && symlink(other, file) == 0);
    CHECK(prof_fileset_cached_bytes(&fs) == 0);
    CHECK(unlink(file) == 0 && link(other, file) == 0);
    struct stat st;
    CHECK(stat(file, &st) == 0);
    CHECK(prof_fileset_cached_bytes(&fs) == 0); /* same name, another inode */
    alarm(0);

    prof_fileset_free(&fs);
    unlink(file);
    unlink(other);
    rmdir(dir);
    CHECK_DONE();
}
