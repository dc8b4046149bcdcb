/*
 * alloc_int.h — the allocator's permanent blocks: tables that live until
 * process exit (the function registry filled by constructors before main,
 * configuration strings). They come from the same allocator and fail the same
 * way (NULL, injected failures included) but are counted apart from live
 * blocks (mt_alloc_stats.permanent_*), so tests that compare live counts are
 * not disturbed by a registration. mt_free releases them.
 */
#ifndef MANTA_CORE_ALLOC_INT_H
#define MANTA_CORE_ALLOC_INT_H

#include <stddef.h>

void *mt__alloc_permanent(size_t size);
/* Grows/shrinks a permanent block (NULL = new); the old block stays valid on failure. */
void *mt__realloc_permanent(void *ptr, size_t size);
char *mt__strdup_permanent(const char *s);

#endif /* MANTA_CORE_ALLOC_INT_H */
