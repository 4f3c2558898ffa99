/*
 * Fault injection for the unit tests (tests/common/fault.c, library
 * cnie_fault), after libfido2's fuzz/wrap.c: the program is linked with
 * the linker's --wrap for the allocator (malloc, calloc, realloc, strdup)
 * and for the OpenSSL/OpenPACE calls libcnie makes (the list is in
 * tests/common/CMakeLists.txt), so every such call made from a statically
 * linked object (libcnie's, the test's) goes through a counter that can
 * make the Nth call fail the way the real function fails (NULL, 0, -1).
 * Calls inside shared libraries (OpenSSL's own mallocs) are not counted.
 *
 * A sweep (fault_sweep) runs a scenario once to count the calls, then
 * once for every k, failing call k: each run must report an error or a
 * result the scenario checked to be right, and must not crash; under
 * ASan/LSan nothing may leak.
 */
#ifndef CNIE_FAULT_H
#define CNIE_FAULT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Starts counting: the fail_at-th wrapped call from now on fails (1-based;
 * 0 counts only).  Only calls from the calling thread count.
 */
void fault_start(unsigned long fail_at);
/* Stops counting; returns the number of wrapped calls seen since fault_start. */
unsigned long fault_stop(void);
/* Whether the scheduled failure was injected, and into which function. */
bool fault_injected(void);
const char *fault_injected_name(void);
/* The number of the failed call in this run (0: none failed). */
unsigned long fault_failed_at(void);

/*
 * Calls between fault_pause and fault_resume (nested) neither count nor
 * fail: the test's own checks and the reference card's side of the
 * conversation, which stand for the outside world, not the code under test.
 */
void fault_pause(void);
void fault_resume(void);

/* A scenario's verdict on one run. */
enum {
	FAULT_RUN_OK = 0,	/* success, and the result checked right */
	FAULT_RUN_WRONG = 1,	/* success with a wrong result: a bug */
	/* < 0: the cnie error the code under test returned */
};

/*
 * One run of a scenario: calls the code under test between fault_start
 * (done by the sweep) and its own end, checks any result with the fault
 * counter paused, frees everything.  Returns FAULT_RUN_* or the error.
 */
typedef int (*fault_scenario)(void *arg);

typedef struct fault_report {
	unsigned long calls;	/* wrapped calls in the full run = runs with a fault */
	unsigned long sites;	/* distinct call sites among them */
	unsigned long errors;	/* runs that reported an error */
	unsigned long absorbed; /* runs that succeeded with a checked result */
	unsigned long nomem;	/* errors that said CNIE_ERR_NOMEM */
	unsigned long crypto;	/* errors that said CNIE_ERR_CRYPTO */
} fault_report;

/*
 * The sweep, with cmocka assertions: the full run succeeds; every run with
 * call k failing returns an error or a checked result (never
 * FAULT_RUN_WRONG, never a code outside the error space, never a PIN
 * verdict the card did not give); prints the figures under name.
 */
void fault_sweep(const char *name, fault_scenario run, void *arg, fault_report *rep);

#endif
