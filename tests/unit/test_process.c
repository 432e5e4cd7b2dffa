/* sbx_reap_children reaps orphans, never a child someone waits for by pid
 * (waitpid(-1) took another burst instance's main process, its status and
 * rusage with it). */
#include <errno.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "sandbox/process.h"

static pid_t exited_child(int code)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(code);
    return pid;
}

int main(void)
{
    pid_t mine = exited_child(3), orphan = exited_child(4);
    CHECK(mine > 0 && orphan > 0);
    sbx_child_own(mine);
    nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL); /* both have exited */
    sbx_reap_children();
    CHECK(waitpid(orphan, NULL, WNOHANG) < 0 && errno == ECHILD); /* reaped */
    int status = 0;
    CHECK(waitpid(mine, &status, WNOHANG) == mine); /* still ours to reap */
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    sbx_child_disown(mine);

    /* Disowned, it is reaped like any other child. */
    pid_t later = exited_child(5);
    sbx_child_own(later);
    sbx_child_disown(later);
    nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
    sbx_reap_children();
    CHECK(waitpid(later, NULL, WNOHANG) < 0 && errno == ECHILD);
    CHECK_DONE();
}
