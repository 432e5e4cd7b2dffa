#include "profiler/measure/config.h"

#include <stdlib.h>

void prof_config_free(struct prof_config *c)
{
    free(c->env);
    c->env = NULL;
    free(c->budgets);
    c->budgets = NULL;
}
