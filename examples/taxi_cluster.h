/* taxi_cluster.h — the partial aggregate the taxi_cluster tasks return. */
#ifndef TAXI_CLUSTER_H
#define TAXI_CLUSTER_H
#include <stdint.h>

#define TAXI_MAX_PASSENGERS 16

typedef struct taxi_partial {
    double fare_sum[TAXI_MAX_PASSENGERS];
    int64_t trips[TAXI_MAX_PASSENGERS];
    int64_t other; /* trips whose passenger count is null-free but not 0..15 */
} taxi_partial;

#endif
