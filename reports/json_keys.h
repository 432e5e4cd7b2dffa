/* Duplicate keys in a parsed JSON document. cJSON keeps every member of an
 * object, and its lookups return the first: a document that says
 * {"mount":1,"mount":7} would mean one thing to us and another to a reader
 * that takes the last (Docker and containerd do). Every document coldstart
 * reads is refused when any object in it repeats a key. */
#ifndef COLDSTART_JSON_KEYS_H
#define COLDSTART_JSON_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* True when some object in the tree repeats a key; ret_path then holds where
 * (`targets[0].runs[1].denied_syscalls.mount`), cut to cap. */
bool rep_json_duplicate_key(const cJSON *root, char *ret_path, size_t cap);

#endif
