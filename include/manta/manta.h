/*
 * manta/manta.h — the umbrella header for users: everything public.
 */
#ifndef MANTA_MANTA_H
#define MANTA_MANTA_H

#include "manta/base.h"
#include "manta/core.h"
#include "manta/data.h"
#include "manta/dataset.h"
#include "manta/datagen.h"
#include "manta/parquet.h"
#include "manta/preprocess.h"

#endif /* MANTA_MANTA_H */
