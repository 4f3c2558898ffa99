# On-disk cache of read-only card data (src/libcnie/cache.c).

cnie_unit(cache)
