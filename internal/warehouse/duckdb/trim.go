package duckdb

/*
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
static void cdp_release_memory(void) { malloc_trim(0); }
#else
static void cdp_release_memory(void) {}
#endif
*/
import "C"

// ReleaseMemory hands the memory DuckDB freed back to the operating system. DuckDB allocates
// with the C allocator from many threads; glibc keeps what they free in per-thread arenas for
// reuse, so after a large query (a sync's plan over millions of rows) the process keeps
// hundreds of megabytes it no longer uses, and the next phase's allocations come on top of
// them. malloc_trim returns the free pages; elsewhere than glibc it does nothing.
func (w *Warehouse) ReleaseMemory() { C.cdp_release_memory() }
