/*
 * strtab.h — a string interning table: one copy of each distinct string
 * (function names of tasks, which repeat millions of times), so records can
 * point at a name instead of copying it. Copies live until mt_strtab_fini.
 * Not thread-safe: one owner at a time. Invariant: load <= 1/2.
 */
#ifndef MANTA_CORE_STRTAB_H
#define MANTA_CORE_STRTAB_H

#include <stddef.h>

typedef struct mt_strtab {
    char **slots;
    size_t cap, n;
} mt_strtab;

/* The table's copy of s[0..len) (made on first sight); NULL when out of memory or when the table
 * already holds `max` strings (the caller copies it itself then). */
const char *mt_strtab_intern(mt_strtab *t, const char *s, size_t len, size_t max);
void mt_strtab_fini(mt_strtab *t);

#endif
