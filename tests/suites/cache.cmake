# On-disk cache of read-only card data (src/cache.c).

cnie_unit(cache)
