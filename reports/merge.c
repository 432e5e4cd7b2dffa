#include "reports/merge.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reports/output.h"
#include "reports/report_json.h"

static char *slurp(const char *path, cs_error *err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        cs_error_set(err, errno, "cannot open `%s`", path);
        return NULL;
    }
    struct rep_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rep_buf_printf(&b, "%.*s", (int)n, chunk);
    fclose(f);
    if (b.failed) {
        rep_buf_free(&b);
        cs_error_set(err, ENOMEM, "`%s`", path);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

static bool name_taken(const cJSON *targets, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, targets)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return true;
    }
    return false;
}

char *rep_merge(const char *const *paths, size_t n, cs_error *err)
{
    cJSON *out = NULL, *targets = NULL, *skipped = NULL;
    for (size_t i = 0; i < n; i++) {
        /* Validate with the real reader: a bad input is named, not half-merged. */
        struct rep_report check;
        if (rep_json_load(paths[i], &check, err) < 0) {
            cJSON_Delete(out);
            return NULL;
        }
        rep_report_free(&check);
        char *text = slurp(paths[i], err);
        if (!text) {
            cJSON_Delete(out);
            return NULL;
        }
        cJSON *in = cJSON_Parse(text);
        free(text);
        if (!in) {
            cs_error_set(err, 0, "%s: not valid JSON", paths[i]);
            cJSON_Delete(out);
            return NULL;
        }
        cJSON *host = cJSON_GetObjectItemCaseSensitive(in, "host");
        if (!out) {
            /* The first report gives the header (schema, tool, host, settings). */
            out = cJSON_CreateObject();
            const char *keys[] = {"schema", "tool", "host", "settings"};
            for (size_t k = 0; k < 4; k++) {
                cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keys[k]);
                if (v)
                    cJSON_AddItemToObject(out, keys[k], cJSON_Duplicate(v, 1));
            }
            char created[32];
            time_t now = time(NULL);
            strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
            cJSON_AddStringToObject(out, "created", created);
            skipped = cJSON_AddArrayToObject(out, "skipped");
            targets = cJSON_AddArrayToObject(out, "targets");
        }
        cJSON *sk = cJSON_GetObjectItemCaseSensitive(in, "skipped"), *e;
        cJSON_ArrayForEach(e, sk) cJSON_AddItemToArray(skipped, cJSON_Duplicate(e, 1));
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(in, "targets"))
        {
            cJSON *t = cJSON_Duplicate(e, 1);
            if (!cJSON_GetObjectItemCaseSensitive(t, "host") && host)
                cJSON_AddItemToObject(t, "host", cJSON_Duplicate(host, 1));
            const char *name = cJSON_GetObjectItemCaseSensitive(t, "name")->valuestring;
            if (name_taken(targets, name)) {
                char renamed[512];
                for (int k = 2;; k++) {
                    snprintf(renamed, sizeof renamed, "%s#%d", name, k);
                    if (!name_taken(targets, renamed))
                        break;
                }
                cJSON_ReplaceItemInObjectCaseSensitive(t, "name", cJSON_CreateString(renamed));
            }
            cJSON_AddItemToArray(targets, t);
        }
        cJSON_Delete(in);
    }
    if (!out) {
        cs_error_set(err, 0, "nothing to merge");
        return NULL;
    }
    char *text = cJSON_Print(out);
    cJSON_Delete(out);
    if (!text)
        cs_error_set(err, ENOMEM, "merged report");
    return text;
}
