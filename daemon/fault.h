/* Fault injection for the test suite: with ISOL8D_FAULT=<step> in the
 * daemon's environment, the step of that name fails with EIO, so tests can
 * show that a failure at any step leaks nothing.  Steps are the phrases
 * box creation logs ("clone the box", "write the id maps", ...). */
#ifndef ISOL8D_FAULT_H
#define ISOL8D_FAULT_H

/* 0, or -EIO when step is the one to fail.  Async-signal-safe, so a box's
 * init may call it too. */
int fault_inject(const char *step);

#endif
