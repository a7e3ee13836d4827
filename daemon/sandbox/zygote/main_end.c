#include "main_end.h"

#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <unwind.h>

struct code_range {
	uintptr_t start, size;
};

static struct code_range finalize, run_main;

/* Frames between the caller and Py_FinalizeEx: the atexit call, Python's
 * evaluation of the callback and this module's method. */
#define MAX_FRAMES 64

static struct code_range range_of(const char *name)
{
	struct code_range r = { 0, 0 };
	void *at = dlsym(RTLD_DEFAULT, name);
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	if (at && dladdr1(at, &info, (void **)&sym, RTLD_DL_SYMENT) && sym &&
	    (uintptr_t)info.dli_saddr == (uintptr_t)at)
		r = (struct code_range){ (uintptr_t)at, sym->st_size };
	return r;
}

void main_end_learn(void)
{
	finalize = range_of("Py_FinalizeEx");
	run_main = range_of("Py_RunMain");
}

static bool in(const struct code_range *r, uintptr_t ip)
{
	return ip - r->start < r->size;
}

struct walk {
	int frames;
	bool below_finalize;
	bool normal;
};

static _Unwind_Reason_Code step(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *w = arg;
	/* A return address: the call it returns from is the byte before. */
	uintptr_t ip = _Unwind_GetIP(ctx) - 1;
	if (w->below_finalize) {
		w->normal = in(&run_main, ip);
		return _URC_END_OF_STACK;
	}
	w->below_finalize = in(&finalize, ip);
	return ++w->frames < MAX_FRAMES ? _URC_NO_REASON : _URC_END_OF_STACK;
}

bool main_end_is_normal(void)
{
	if (!finalize.size || !run_main.size)
		return false;
	struct walk w = { 0, false, false };
	_Unwind_Backtrace(step, &w);
	return w.normal;
}
