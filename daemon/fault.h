/* Fault injection for the test suite: with ISOL8D_FAULT=<step> in the
 * daemon's environment, the step of that name fails with EIO, so tests can
 * show that a failure at any step leaks nothing.  Steps are the phrases
 * box creation logs ("clone the box", "write the id maps", ...),
 * "write the preload script" of a pooled or session box's waiting
 * interpreter, and "copy memory in the kernel" of a box made from the
 * python zygote (not a failure: the box then copies page by page).
 *
 * Two more variables narrow the fault, so that tests can fail one runtime's
 * pooled boxes and watch the pool recover:
 *   ISOL8D_FAULT_RUNTIME=<runtime>  only steps done for that runtime fail;
 *     steps that do not know their runtime (all of box creation) then
 *     never fail;
 *   ISOL8D_FAULT_COUNT=<n>  only the first n times the step comes up fail,
 *     counted per process (the daemon's; a box's init counts its own). */
#ifndef ISOL8D_FAULT_H
#define ISOL8D_FAULT_H

/* 0, or -EIO when step is the one to fail.  Async-signal-safe, so a box's
 * init may call it too. */
int fault_inject(const char *step);
/* The same for a step done for one runtime (its name). */
int fault_inject_for(const char *step, const char *runtime);

#endif
