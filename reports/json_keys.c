#include "reports/json_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends ".KEY" or "[I]" to the path, within cap. */
static size_t extend(char *path, size_t len, size_t cap, const cJSON *parent, const cJSON *child,
                     size_t index)
{
    int n = cJSON_IsArray(parent) ? snprintf(path + len, cap - len, "[%zu]", index)
                                  : snprintf(path + len, cap - len, "%s%s", len ? "." : "",
                                             child->string ? child->string : "");
    return n < 0 ? len : len + (size_t)n >= cap ? cap - 1 : len + (size_t)n;
}

/* Sorting the names keeps an object of a million keys at n log n, where
 * comparing each pair would take hours. */
static bool repeats(const cJSON *o, const char **ret_name)
{
    size_t n = 0;
    for (const cJSON *c = o->child; c; c = c->next)
        n++;
    if (n < 2)
        return false;
    const char **names = malloc(n * sizeof *names);
    if (!names) {
        *ret_name = "(out of memory while checking keys)";
        return true; /* refusing is the safe answer */
    }
    size_t i = 0;
    for (const cJSON *c = o->child; c; c = c->next)
        names[i++] = c->string ? c->string : "";
    qsort(names, n, sizeof *names, by_name);
    bool found = false;
    for (i = 1; i < n && !found; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            *ret_name = names[i];
            found = true;
        }
    free(names);
    return found;
}

/* cJSON refuses documents nested deeper than CJSON_NESTING_LIMIT (1000), so
 * the recursion is bounded. */
static bool walk(const cJSON *node, char *path, size_t len, size_t cap)
{
    const char *name = NULL;
    if (cJSON_IsObject(node) && repeats(node, &name)) {
        snprintf(path + len, cap - len, "%s%s", len ? "." : "", name);
        return true;
    }
    size_t index = 0;
    for (const cJSON *c = node->child; c; c = c->next, index++) {
        if (!cJSON_IsObject(c) && !cJSON_IsArray(c))
            continue;
        size_t sub = extend(path, len, cap, node, c, index);
        if (walk(c, path, sub, cap))
            return true;
        path[len] = '\0';
    }
    return false;
}

bool rep_json_duplicate_key(const cJSON *root, char *ret_path, size_t cap)
{
    if (!root || cap == 0)
        return false;
    ret_path[0] = '\0';
    return walk(root, ret_path, 0, cap);
}
