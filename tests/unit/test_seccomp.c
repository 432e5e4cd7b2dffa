/* The compiled seccomp filter: the default policy's program is a binary
 * tree of system call numbers (libseccomp's SCMP_FLTATR_CTL_OPTIMIZE 2), so
 * that loading it (once a run) and running it (every system call of the
 * target) check a few ranges rather than the whole list one by one. */
#include <linux/filter.h>

#include "check.h"
#include "sandbox/seccomp.h"

/* Conditional jumps on a range (>, >=) against a constant: a tree has them
 * at every inner node, a linear list only tests for equality. */
static size_t range_jumps(const struct sock_fprog *p)
{
    size_t n = 0;
    for (unsigned short i = 0; i < p->len; i++) {
        unsigned short code = p->filter[i].code;
        if (BPF_CLASS(code) == BPF_JMP && BPF_SRC(code) == BPF_K &&
            (BPF_OP(code) == BPF_JGT || BPF_OP(code) == BPF_JGE))
            n++;
    }
    return n;
}

int main(void)
{
    cs_error err;
    struct sbx_seccomp *f = NULL;
    struct sbx_seccomp_opts o = {.policy = SBX_SECCOMP_DEFAULT, .notify_listen = true};
    CHECK(sbx_seccomp_build(&o, &f, &err) == 0 && f);
    const struct sock_fprog *p = sbx_seccomp_program(f);
    CHECK(p && p->len > 0);
    if (p) {
        size_t tree = range_jumps(p);
        CHECK(tree >= 4);
        if (tree < 4)
            fprintf(stderr, "%zu range jumps in %u instructions: a linear list\n", tree, p->len);
    }
    sbx_seccomp_free(f);
    CHECK_DONE();
}
