/* Symbol visibility for libcnie: everything is hidden unless marked. */
#ifndef CNIE_EXPORT_H
#define CNIE_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define CNIE_EXPORT __attribute__((visibility("default")))
#define CNIE_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define CNIE_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CNIE_EXPORT
#define CNIE_PRINTF(fmt, args)
#define CNIE_WARN_UNUSED
#endif

#endif
