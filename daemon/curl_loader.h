/* libcurl, loaded when remote code is set up rather than linked: a daemon
 * without remote code maps none of libcurl's thirty-odd libraries, so its
 * address space, which every box's clone copies, stays small.  Code that
 * uses libcurl includes this header instead of <curl/curl.h>: the curl_*
 * names it calls are pointers into the loaded library. */
#ifndef ISOL8D_CURL_LOADER_H
#define ISOL8D_CURL_LOADER_H

#include <curl/curl.h>

/* The functions the daemon uses, as X(name without "curl_"). */
#define CURL_LOADED_FUNCTIONS(X)                                               \
	X(easy_cleanup)                                                        \
	X(easy_getinfo)                                                        \
	X(easy_init)                                                           \
	X(easy_setopt)                                                         \
	X(easy_strerror)                                                       \
	X(free)                                                                \
	X(global_init)                                                         \
	X(multi_add_handle)                                                    \
	X(multi_assign)                                                        \
	X(multi_cleanup)                                                       \
	X(multi_info_read)                                                     \
	X(multi_init)                                                          \
	X(multi_remove_handle)                                                 \
	X(multi_setopt)                                                        \
	X(multi_socket_action)                                                 \
	X(multi_strerror)                                                      \
	X(slist_append)                                                        \
	X(slist_free_all)                                                      \
	X(url)                                                                 \
	X(url_cleanup)                                                         \
	X(url_get)                                                             \
	X(url_set)

#define CURL_LOADED_MEMBER(name) __typeof__(curl_##name) *name;
struct curl_loaded {
	CURL_LOADED_FUNCTIONS(CURL_LOADED_MEMBER)
};
extern struct curl_loaded curl_loaded;

/* Loads libcurl.so.4 and finds every function above: 0, or -ENOENT
 * (logged, naming what is missing).  Loaded, it stays.  No curl_*
 * function may be called before it has succeeded. */
int curl_loader_open(void);

/* Calls go through the pointers (a variadic one passes its arguments as
 * a direct call does).  curl's macros that check setopt and getinfo
 * argument types at compile time are given up for it. */
#undef curl_easy_getinfo
#undef curl_easy_setopt
#undef curl_multi_setopt
#define curl_easy_cleanup curl_loaded.easy_cleanup
#define curl_easy_getinfo curl_loaded.easy_getinfo
#define curl_easy_init curl_loaded.easy_init
#define curl_easy_setopt curl_loaded.easy_setopt
#define curl_easy_strerror curl_loaded.easy_strerror
#define curl_free curl_loaded.free
#define curl_global_init curl_loaded.global_init
#define curl_multi_add_handle curl_loaded.multi_add_handle
#define curl_multi_assign curl_loaded.multi_assign
#define curl_multi_cleanup curl_loaded.multi_cleanup
#define curl_multi_info_read curl_loaded.multi_info_read
#define curl_multi_init curl_loaded.multi_init
#define curl_multi_remove_handle curl_loaded.multi_remove_handle
#define curl_multi_setopt curl_loaded.multi_setopt
#define curl_multi_socket_action curl_loaded.multi_socket_action
#define curl_multi_strerror curl_loaded.multi_strerror
#define curl_slist_append curl_loaded.slist_append
#define curl_slist_free_all curl_loaded.slist_free_all
#define curl_url curl_loaded.url
#define curl_url_cleanup curl_loaded.url_cleanup
#define curl_url_get curl_loaded.url_get
#define curl_url_set curl_loaded.url_set

#endif
