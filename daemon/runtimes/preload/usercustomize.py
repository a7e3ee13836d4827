# A pooled Python box starts `python3 /sandbox/main.py` before main.py
# exists.  site imports this module (found through PYTHONPATH, which only
# the waiting interpreter has) at the end of start-up; it waits here for
# the execution: the daemon writes main.py and the other files, then sends
# on stdin "<8 hex digits: length><cwd>\0<KEY=VALUE>\0...\0".  The rest of
# stdin is the program's.  It removes its files before it waits and every
# other trace of itself once the header is read, so that Python goes on
# exactly as `python3 main.py` would: __main__, argv, sys.path[0],
# tracebacks and exit codes are Python's own.  What it leaves is a last
# atexit callback that makes the interpreter's end cheaper where no one can
# tell (_isol8_exit_cheaply).
def _isol8_wait():
    import os
    import sys
    # Modules not loaded at start-up stay out of sys.modules.
    loaded = set(sys.modules)
    import atexit
    import gc
    for name in ("atexit", "gc"):
        if name not in loaded:
            del sys.modules[name]

    def read_exact(n):
        data = b""
        while len(data) < n:
            chunk = os.read(0, n - len(data))
            if not chunk:
                os._exit(70)
            data += chunk
        return data

    # In a zygote, the daemon's module, a memfd at fd 4, makes the boxes
    # (serve(), below; the boxes copy it from fd 4); loaded with the
    # machinery start-up loaded, it is in no module list.
    zygote = None
    try:
        module = os.readlink("/proc/self/fd/4")
    except OSError:
        module = None
    if module == "/memfd:_isol8_zygote.abi3.so (deleted)":
        machinery = sys.modules["_frozen_importlib_external"]
        loader = machinery.ExtensionFileLoader("_isol8_zygote",
                                               "/proc/self/fd/4")
        zygote = sys.modules["_frozen_importlib"].module_from_spec(
            machinery.spec_from_file_location("_isol8_zygote",
                                              "/proc/self/fd/4",
                                              loader=loader))
        sys.modules.pop("_isol8_zygote", None)
    here = os.path.dirname(os.path.abspath(__file__))
    # Read and compiled, this script leaves before the execution comes.
    cache = os.path.join(here, "__pycache__")
    for name in os.listdir(cache) if os.path.isdir(cache) else ():
        os.unlink(os.path.join(cache, name))
    if os.path.isdir(cache):
        os.rmdir(cache)
    os.unlink(os.path.abspath(__file__))
    os.rmdir(here)
    while here in sys.path:
        sys.path.remove(here)
    sys.path_importer_cache.pop(here, None)
    # What start-up made goes to the oldest generation now, before the
    # execution, without a collection that the program could see counted:
    # what the program makes is then all that the younger two hold at its
    # end (unless a collection of theirs ran meanwhile).
    gc.freeze()
    gc.unfreeze()
    collections = [g["collections"] for g in gc.get_stats()][1:]
    # The zygote never gets past this call: it returns in the interpreter
    # a box made from it holds, now in the box as the box user, its stdio
    # the daemon's pipes (daemon/sandbox/zygote/serve.c).
    if zygote:
        zygote.serve()
    # Tells the pool this interpreter is ready; the daemon drops the line
    # from the output before the program's.
    os.write(1, b"isol8-waiting\n")
    size = int(read_exact(8), 16)
    parts = read_exact(size).split(b"\0")
    os.chdir(os.fsdecode(parts[0]))
    env = [item for item in parts[1:] if b"=" in item]
    own = [k + b"=" + v for k, v in os.environb.items()
           if k != b"PYTHONPATH"]
    if env == own:
        # The same variables in the same order, but the one that found
        # this script: dropping it is all it takes, and costs less.
        os.environb.pop(b"PYTHONPATH", None)
    else:
        os.environ.clear()
        for item in env:
            key, _, value = item.partition(b"=")
            os.environ[os.fsdecode(key)] = os.fsdecode(value)
    # A user site directory made by the execution's files counts, as it
    # would have at start-up.
    import site
    if site.ENABLE_USER_SITE:
        user_site = site.getusersitepackages()
        if os.path.isdir(user_site) and user_site not in sys.path:
            site.addsitedir(user_site)
    # Python now asks whether main.py is a zip archive or a directory to
    # run; the answer, no importer, is what it would cache, and caching it
    # first spares the file being opened and searched.
    sys.path_importer_cache.setdefault(sys.argv[0], None)
    # Generations as 3.11 and 3.12 keep them (3.14's collector is
    # incremental: its young objects are not all in the younger two).
    if sys.version_info < (3, 13):
        # A C-level hook, called for each audited event at no cost worth
        # counting and keeping nothing: the first hook the program adds
        # pops the key (its own hooks are not to see this module's calls).
        watch = {"sys.addaudithook": None}
        sys.addaudithook(watch.pop)
        end = zygote and (zygote.end_if_normal, vars(sys.modules["__main__"]),
                          sys.stdout, sys.stderr)
        atexit.register(_isol8_exit_cheaply(sys, gc, collections, watch,
                                            end))


def _isol8_exit_cheaply(sys, gc, collections, watch, end):
    """Registered before the program runs, the callback runs after all of
    its atexit handlers, as the interpreter ends.  Python then flushes
    stdout and stderr, collects garbage, clears the modules and frees what
    is left.  When all the program made is inert (plain containers,
    functions, classes without __del__ and their instances: nothing whose
    end runs code or shows), freezing the heap first lets that end skip
    the collections and the freeing of cycles.  In a box made from the
    zygote (end given), such an interpreter after a program that ran to
    its end skips the rest of its end: it flushes stdout and stderr and
    exits 0.  Output, exit code, tracebacks and finalizers stay Python's
    own."""
    inert_types = {
        dict, list, tuple, set, frozenset, type, property, classmethod,
        staticmethod, type(sys), type(len), type(type.__dict__),
        type(_isol8_wait), type((lambda s: 0).__get__(0)),
        type((lambda x: lambda: x)(0).__closure__[0]),
        type(object.__init__), type((0).__add__), type(str.join),
        type(dict.__dict__["fromkeys"]), type(type.__dict__["__dict__"]),
        type(type.__dict__["__weakrefoffset__"])}
    import _thread
    from _weakref import ref as weakref
    # __main__'s loader and spec, and the program's own plain classes.
    plain = ("__main__", "_frozen_importlib", "_frozen_importlib_external")

    def inert(o):
        t = type(o)
        if t in inert_types:
            return True
        if t is weakref:  # as classes keep for their bases
            return o.__callback__ is None
        if type(t) is not type or t.__mro__[-1] is not object:
            return False
        return all(c.__module__ in plain and type(c) is type and
                   "__del__" not in vars(c) for c in t.__mro__[:-1])

    def exit_cheaply():
        # Only with no audit hook of the program's, as the interpreter ends
        # (not atexit._run_exitfuncs()), alone, with no one watching
        # collections, and with all the program made still in the two
        # younger generations.
        if not watch or sys._getframe().f_back is not None or \
                _thread._count() or len(sys._current_frames()) > 1 or \
                gc.callbacks or gc.get_debug() or gc.get_freeze_count() or \
                [g["collections"] for g in gc.get_stats()][1:] != collections:
            return
        young = gc.get_objects(0)
        young += gc.get_objects(1)
        if len(young) <= 10000 and all(inert(o) for o in young):
            if end:
                end_if_ran_to_its_end(*end)
            gc.freeze()

    def end_if_ran_to_its_end(end_if_normal, main, stdout, stderr):
        # Python drops __main__'s __file__ and __cached__ once a program
        # ran to its end or raised (and shows the exception, kept in sys);
        # a SystemExit ends it with both still there.  Only the C stack
        # tells a SystemExit from the normal end where the program dropped
        # them itself (daemon/sandbox/zygote/main_end.h).
        if "__file__" in main or "__cached__" in main or \
                any(hasattr(sys, "last_" + n)
                    for n in ("type", "value", "traceback", "exc")):
            return
        # Python's flush of the streams, which it would redo and report
        # failing on its own end.
        if sys.stdout is not stdout or sys.stderr is not stderr:
            return
        try:
            for stream in (stdout, stderr):
                if not stream.closed:
                    stream.flush()
        except Exception:
            return
        end_if_normal()
    return exit_cheaply


_isol8_wait()
# As if there were no such module: importlib drops it from sys.modules and
# site ignores an ImportError for this name, as it does when none exists.
raise ImportError("no usercustomize", name=__name__)
