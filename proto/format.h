/* The one way a variadic function of this project formats its message:
 * FORMAT_ARGS(buf, fmt) fills the char array buf from fmt and the
 * arguments after it (fmt being the function's last named parameter),
 * truncating to fit. */
#ifndef ISOL8_FORMAT_H
#define ISOL8_FORMAT_H

#include <stdarg.h>
#include <stdio.h>

#define FORMAT_ARGS(buf, fmt)                                                  \
	do {                                                                   \
		va_list format_ap_;                                            \
		va_start(format_ap_, fmt);                                     \
		vsnprintf(buf, sizeof(buf), fmt, format_ap_);                  \
		va_end(format_ap_);                                            \
	} while (0)

#endif
