# A pooled bash box starts `bash /sandbox/main.sh` before main.sh exists,
# with BASH_ENV naming this script, which bash sources before it opens
# its script.  It waits here for the execution: the daemon writes main.sh
# and the other files, then sends on stdin "<8 hex digits: length><cwd>\0
# <KEY=VALUE>\0...\0" (an empty entry ends it); read takes a byte at a
# time from a pipe, so the rest of stdin stays the program's.  The daemon
# removes this file once it has been read.  Only builtins run here, and
# nothing of it is left: bash goes on exactly as `bash main.sh` would.
printf 'isol8-waiting\n'
IFS= read -r -N 8 __isol8_v || exit 70
IFS= read -r -d '' __isol8_cwd || exit 70
while IFS= read -r -d '' __isol8_v && [ -n "$__isol8_v" ]; do
	export "$__isol8_v"
done
unset BASH_ENV
builtin cd -- "$__isol8_cwd" || exit 70
# As bash starts: OLDPWD exported but unset, SECONDS from now.
unset OLDPWD
declare -x OLDPWD
SECONDS=0
unset __isol8_v __isol8_cwd
BASH_ARGC=()
# $_ as bash sets it at start: its own path.
: "$BASH"
