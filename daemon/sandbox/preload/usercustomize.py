# A pooled Python box starts `python3 /sandbox/main.py` before main.py
# exists.  site imports this module (found through PYTHONPATH, which only
# the waiting interpreter has) at the end of start-up; it waits here for
# the execution: the daemon writes main.py and the other files, then sends
# on stdin "<8 hex digits: length><cwd>\0<KEY=VALUE>\0...\0".  The rest of
# stdin is the program's.  Then it removes every trace of itself, so that
# Python goes on exactly as `python3 main.py` would: __main__, argv,
# sys.path[0], tracebacks and exit codes are Python's own.
def _isol8_wait():
    import os
    import sys

    def read_exact(n):
        data = b""
        while len(data) < n:
            chunk = os.read(0, n - len(data))
            if not chunk:
                os._exit(70)
            data += chunk
        return data

    # Tells the pool this interpreter is ready; the daemon drops the line
    # from the output before the program's.
    os.write(1, b"isol8-waiting\n")
    size = int(read_exact(8), 16)
    parts = read_exact(size).split(b"\0")
    here = os.path.dirname(os.path.abspath(__file__))
    cache = os.path.join(here, "__pycache__")
    for name in os.listdir(cache) if os.path.isdir(cache) else ():
        os.unlink(os.path.join(cache, name))
    if os.path.isdir(cache):
        os.rmdir(cache)
    os.unlink(os.path.abspath(__file__))
    os.rmdir(here)
    os.chdir(os.fsdecode(parts[0]))
    os.environ.clear()
    for item in parts[1:]:
        key, sep, value = item.partition(b"=")
        if sep:
            os.environ[os.fsdecode(key)] = os.fsdecode(value)
    while here in sys.path:
        sys.path.remove(here)
    sys.path_importer_cache.pop(here, None)
    # A user site directory made by the execution's files counts, as it
    # would have at start-up.
    import site
    if site.ENABLE_USER_SITE:
        user_site = site.getusersitepackages()
        if os.path.isdir(user_site) and user_site not in sys.path:
            site.addsitedir(user_site)


_isol8_wait()
# As if there were no such module: importlib drops it from sys.modules and
# site ignores an ImportError for this name, as it does when none exists.
raise ImportError("no usercustomize", name=__name__)
