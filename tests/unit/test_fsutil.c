/* fs_remove_tree: any depth (a layer 300 levels deep leaked a folder per
 * run; a recursion holds a descriptor per level), wide folders, links never
 * followed. */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sandbox/base/fsutil.h"

int main(void)
{
    /* Fewer descriptors than levels: a walk holding one per level fails. */
    struct rlimit rl = {256, 256};
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    char top[] = "/tmp/coldstart-fsutil-XXXXXX";
    CHECK(mkdtemp(top) != NULL);
    char victim[256];
    snprintf(victim, sizeof victim, "%s.victim", top);
    int v = open(victim, O_CREAT | O_WRONLY, 0600);
    CHECK(v >= 0);
    close(v);

    char tree[300];
    snprintf(tree, sizeof tree, "%s/tree", top);
    CHECK(mkdir(tree, 0755) == 0);
    int fd = open(tree, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 3000 && fd >= 0; i++) { /* a/a/a/... 3000 deep, a file at each level */
        int f = openat(fd, "file", O_CREAT | O_WRONLY, 0644);
        close(f);
        if (i % 100 == 0)
            CHECK(symlinkat(victim, fd, "link") == 0); /* never followed */
        CHECK(mkdirat(fd, "a", 0755) == 0);
        int next = openat(fd, "a", O_RDONLY | O_DIRECTORY);
        close(fd);
        fd = next;
    }
    close(fd);
    char wide[400];
    snprintf(wide, sizeof wide, "%s/wide", tree);
    CHECK(mkdir(wide, 0755) == 0);
    for (int i = 0; i < 3000; i++) {
        char d[500];
        snprintf(d, sizeof d, "%s/%d", wide, i);
        CHECK(mkdir(d, 0755) == 0);
    }
    CHECK(fs_remove_tree(tree) == 0);
    struct stat st;
    CHECK(lstat(tree, &st) < 0);
    CHECK(stat(victim, &st) == 0); /* the links' target stays */
    CHECK(fs_remove_tree(tree) == 0); /* gone already: nothing to do */
    unlink(victim);
    rmdir(top);
    CHECK_DONE();
}
