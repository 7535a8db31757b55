#!/usr/bin/env bash
# zkCli suite: drives Java ZooKeeper 3.8's own CLI (org.apache.zookeeper.ZooKeeperMain)
# against a server and asserts on what it prints, as Java ZooKeeper 3.8 prints it.
#
#   suite.sh HOST:PORT     run every scenario, one "RESULT zkcli <scenario> pass|fail <why>"
#   suite.sh --list        print the scenario names
#
# zkCli prints data, stats, lists and watch events on stdout; "Created", errors and other
# messages on stderr. A script on stdin runs in one session; `zk CMD ARGS` runs one command
# in its own session (exit status 1 on a ZooKeeper error).
set -u

SCENARIOS=(crud errors stat_fields ephemeral sequential ephemeral_sequential data_watch
    exists_child_watch acl_digest acl_get_set ls_recursive container ttl set_version
    delete_version deleteall sync config add_watch_recursive add_watch_persistent whoami
    get_ephemerals all_children_number remove_watches quota server_errors auth_failed)
if [ "${1:-}" = --list ]; then printf '%s\n' "${SCENARIOS[@]}"; exit 0; fi
HP=${1:?usage: suite.sh HOST:PORT | --list}

J=/usr/share/java
CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-nop.jar
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ---------------------------------------------------------------- helpers

# zk [CMD ARGS...]: run zkCli (a script from stdin when no command is given). Sets OUT
# (stdout less the banner, the connect/close events and empty lines), ERR (stderr) and RC.
# A script ends with `quit`, which closes its session (at a bare EOF zkCli exits without
# closing it, and the session lives on until it times out).
zk() {
    if [ $# -eq 0 ]; then { cat; echo quit; } >"$TMP/in"; else : >"$TMP/in"; fi
    if ! timeout 2 bash -c ">/dev/tcp/${HP%:*}/${HP##*:}" 2>/dev/null; then
        OUT= ERR="server not reachable at $HP" RC=125 # zkCli would retry until timeout
        return
    fi
    timeout 20 java -Xmx128m -XX:TieredStopAtLevel=1 -cp "$CP" \
        org.apache.zookeeper.ZooKeeperMain -server "$HP" "$@" <"$TMP/in" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    OUT=$(grep -vxE 'Connecting to .*|Welcome to ZooKeeper!|JLine support is disabled|WATCHER::|WatchedEvent state:(SyncConnected|Closed) type:None path:null|' "$TMP/out")
    ERR=$(cat "$TMP/err")
}

FAIL=
fail() { [ -n "$FAIL" ] || FAIL=$(printf '%s' "$*" | tr '\n' '~' | cut -c1-300); }
show() { printf '%s' "$1" | tr '\n' '~' | cut -c1-200; }

has_out() { local l; for l; do grep -qxF -- "$l" <<<"$OUT" || fail "stdout lacks '$l' (stdout: $(show "$OUT"))"; done; }
has_err() { local l; for l; do grep -qxF -- "$l" <<<"$ERR" || fail "stderr lacks '$l' (stderr: $(show "$ERR"))"; done; }
lacks_out() { local l; for l; do grep -qxF -- "$l" <<<"$OUT" && fail "stdout has unexpected '$l'"; done; }
no_err() { [ -z "$ERR" ] || fail "unexpected stderr: $(show "$ERR")"; }
rc_is() { [ "$RC" -eq "$1" ] || fail "exit status $RC, want $1 (stderr: $(show "$ERR"))"; }
count_out() { # count_out N LINE
    local n; n=$(grep -cxF -- "$2" <<<"$OUT")
    [ "$n" -eq "$1" ] || fail "'$2' printed $n times, want $1"
}
in_order() { # in_order LINE...: the lines appear in stdout in this order
    local want=("$@") i=0 l
    while IFS= read -r l; do
        [ $i -lt ${#want[@]} ] && [ "$l" = "${want[$i]}" ] && i=$((i + 1))
    done <<<"$OUT"
    [ $i -eq ${#want[@]} ] || fail "stdout lacks '${want[$i]}' in order (stdout: $(show "$OUT"))"
}
event() { echo "WatchedEvent state:SyncConnected type:$1 path:$2"; }
sorted_list() { # "[b, a]" -> "a b"
    tr -d '[]' <<<"$1" | tr ',' '\n' | tr -d ' ' | sort | xargs
}
gone() { # gone PATH SECONDS: poll until PATH does not exist
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        zk stat "$1"
        grep -qxF "Node does not exist: $1" <<<"$ERR" && return 0
        sleep 0.5
    done
    return 1
}

# Pending watch events are printed by zkCli's event thread: a few round trips after the
# last trigger let it print them before the script's end closes the session.
SETTLE=$'sync /\nls /\nls /zkcli'

# ---------------------------------------------------------------- scenarios

sc_crud() {
    zk <<EOF
create /zkcli/crud hello
get /zkcli/crud
set /zkcli/crud world!
get -s /zkcli/crud
create /zkcli/crud/kid
get /zkcli/crud/kid
ls /zkcli/crud
ls /zkcli
delete /zkcli/crud/kid
delete /zkcli/crud
get /zkcli/crud
EOF
    has_err "Created /zkcli/crud" "Created /zkcli/crud/kid" "Node does not exist: /zkcli/crud"
    # A node created without data holds null, which zkCli prints as "null".
    in_order hello "world!" "dataVersion = 1" "dataLength = 6" "numChildren = 0" null "[kid]"
    grep -q '^\[.*\bcrud\b.*\]$' <<<"$OUT" || fail "ls /zkcli lacks crud: $(show "$OUT")"
    zk get /zkcli/crud
    rc_is 1
    has_err "Node does not exist: /zkcli/crud"
}

sc_errors() {
    zk <<EOF
create /zkcli/err e
create /zkcli/err again
create /zkcli/err/a/b x
create /zkcli/err/a x
delete /zkcli/err
set /zkcli/nope x
ls /zkcli/nope
stat /zkcli/nope
create /zkcli/badacl x digest:nocolon:cdrwa
EOF
    has_err "Node already exists: /zkcli/err" "Node does not exist: /zkcli/err/a/b" \
        "Node not empty: /zkcli/err" "Node does not exist: /zkcli/nope" \
        "KeeperErrorCode = InvalidACL for /zkcli/badacl" "Acl is not valid : /zkcli/badacl"
    count_out 0 "e again"
    zk get /zkcli/err
    rc_is 0
    has_out e
}

sc_stat_fields() {
    zk <<EOF
create /zkcli/st abc
create /zkcli/st/a
create /zkcli/st/b
delete /zkcli/st/a
set /zkcli/st abcdef
set /zkcli/st xy
stat /zkcli/st
EOF
    has_out "cversion = 3" "dataVersion = 2" "aclVersion = 0" "ephemeralOwner = 0x0" \
        "dataLength = 2" "numChildren = 1"
    local czxid pzxid mzxid
    czxid=$(sed -n 's/^cZxid = //p' <<<"$OUT"); mzxid=$(sed -n 's/^mZxid = //p' <<<"$OUT")
    pzxid=$(sed -n 's/^pZxid = //p' <<<"$OUT")
    [[ $czxid =~ ^0x[0-9a-f]+$ && $mzxid =~ ^0x[0-9a-f]+$ ]] || fail "bad zxids: $czxid $mzxid"
    [ $((mzxid)) -gt $((pzxid)) ] && [ $((pzxid)) -gt $((czxid)) ] ||
        fail "want cZxid < pZxid < mZxid, got $czxid $pzxid $mzxid"
    grep -qE '^ctime = [A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9:]{8} [A-Z]+ [0-9]{4}$' <<<"$OUT" ||
        fail "ctime not a date: $(show "$OUT")"
}

sc_ephemeral() {
    zk <<EOF
create /zkcli/eph
create -e /zkcli/eph/e data
stat /zkcli/eph/e
create /zkcli/eph/e/child x
get /zkcli/eph/e
EOF
    has_err "Created /zkcli/eph/e" "Ephemerals cannot have children: /zkcli/eph/e/child"
    has_out data
    grep -qxE 'ephemeralOwner = 0x[0-9a-f]*[1-9a-f][0-9a-f]*' <<<"$OUT" ||
        fail "ephemeralOwner not a session id: $(show "$OUT")"
    zk stat /zkcli/eph/e # the script's session closed: the node is gone
    rc_is 1
    has_err "Node does not exist: /zkcli/eph/e"
}

sc_sequential() {
    # The suffix is the parent's stored cversion, which counts creates only; the cversion
    # clients see is 2 * stored - numChildren, so it counts deletes as well.
    zk <<EOF
create /zkcli/seq
create -s /zkcli/seq/n- a
create /zkcli/seq/plain
delete /zkcli/seq/plain
create -s /zkcli/seq/n- b
create -s /zkcli/seq/ c
ls /zkcli/seq
get /zkcli/seq/n-0000000002
stat /zkcli/seq
EOF
    has_err "Created /zkcli/seq/n-0000000000" "Created /zkcli/seq/n-0000000002" \
        "Created /zkcli/seq/0000000003"
    has_out "[0000000003, n-0000000000, n-0000000002]" b "cversion = 5" "numChildren = 3"
}

sc_ephemeral_sequential() {
    zk <<EOF
create /zkcli/es
create -e -s /zkcli/es/x- 1
create -e -s /zkcli/es/x- 2
ls /zkcli/es
stat /zkcli/es/x-0000000001
EOF
    has_err "Created /zkcli/es/x-0000000000" "Created /zkcli/es/x-0000000001"
    has_out "[x-0000000000, x-0000000001]"
    grep -qxE 'ephemeralOwner = 0x[0-9a-f]*[1-9a-f][0-9a-f]*' <<<"$OUT" ||
        fail "ephemeralOwner not a session id: $(show "$OUT")"
    zk ls /zkcli/es
    has_out "[]"
}

sc_data_watch() {
    zk <<EOF
create /zkcli/dw v1
get -w /zkcli/dw
set /zkcli/dw v2
set /zkcli/dw v3
get -w /zkcli/dw
delete /zkcli/dw
$SETTLE
EOF
    has_out v1 v3
    count_out 1 "$(event NodeDataChanged /zkcli/dw)" # one-shot: the second set is silent
    count_out 1 "$(event NodeDeleted /zkcli/dw)"
}

sc_exists_child_watch() {
    zk <<EOF
create /zkcli/cw
ls -w /zkcli/cw
create /zkcli/cw/a
create /zkcli/cw/b
stat -w /zkcli/cw/later
create /zkcli/cw/later
stat -w /zkcli/cw/a
set /zkcli/cw/a x
$SETTLE
EOF
    has_err "Node does not exist: /zkcli/cw/later"
    count_out 1 "$(event NodeChildrenChanged /zkcli/cw)"
    count_out 1 "$(event NodeCreated /zkcli/cw/later)"
    count_out 1 "$(event NodeDataChanged /zkcli/cw/a)"
}

DIGEST=$(printf 'u:p' | openssl dgst -sha1 -binary | base64) # Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=

sc_acl_digest() {
    zk <<EOF
addauth digest u:p
create /zkcli/acl x digest:u:$DIGEST:cdrwa
getAcl /zkcli/acl
create /zkcli/acl2 y
setAcl /zkcli/acl2 auth:u:p:cdrwa
getAcl /zkcli/acl2
get /zkcli/acl
EOF
    count_out 2 "'digest,'u:$DIGEST"
    count_out 2 ": cdrwa"
    has_out x
    zk get /zkcli/acl
    rc_is 1
    has_err "Insufficient permission : /zkcli/acl"
    zk <<EOF
set /zkcli/acl2 z
getAcl /zkcli/acl2
addauth digest u:wrong
get /zkcli/acl
EOF
    count_out 0 x
    [ "$(grep -cxF "Insufficient permission : /zkcli/acl2" <<<"$ERR")" -eq 2 ] ||
        fail "want 2 NoAuth errors on /zkcli/acl2: $(show "$ERR")"
    has_err "Insufficient permission : /zkcli/acl"
    zk <<EOF
addauth digest u:p
get /zkcli/acl
set /zkcli/acl2 z
get /zkcli/acl2
EOF
    no_err
    has_out x z
}

sc_acl_get_set() {
    zk <<EOF
create /zkcli/aw v
getAcl /zkcli/aw
setAcl -v 3 /zkcli/aw world:anyone:cdra
setAcl /zkcli/aw world:anyone:r
getAcl -s /zkcli/aw
set /zkcli/aw z
get /zkcli/aw
create /zkcli/aw/kid
create /zkcli/ip i
setAcl /zkcli/ip ip:127.0.0.1:cdrwa
getAcl /zkcli/ip
get /zkcli/ip
EOF
    in_order "'world,'anyone" ": cdrwa" "'world,'anyone" ": r" "aclVersion = 1" v \
        "'ip,'127.0.0.1" ": cdrwa" i
    has_err "version No is not valid : /zkcli/aw" "Insufficient permission : /zkcli/aw" \
        "Insufficient permission : /zkcli/aw/kid"
}

sc_ls_recursive() {
    zk <<EOF
create /zkcli/tree
create /zkcli/tree/a
create /zkcli/tree/a/b
create /zkcli/tree/c
ls -R /zkcli/tree
EOF
    # Breadth first; siblings come in the server's order.
    local got; got=$(grep '^/zkcli/tree' <<<"$OUT" | xargs)
    case $got in
        "/zkcli/tree /zkcli/tree/a /zkcli/tree/c /zkcli/tree/a/b" | \
            "/zkcli/tree /zkcli/tree/c /zkcli/tree/a /zkcli/tree/a/b") ;;
        *) fail "ls -R printed: $got" ;;
    esac
}

sc_container() {
    zk <<EOF
create -c /zkcli/cont
create -c /zkcli/cont-empty
create /zkcli/cont/ch x
stat /zkcli/cont
delete /zkcli/cont/ch
EOF
    has_err "Created /zkcli/cont" "Created /zkcli/cont-empty"
    has_out "ephemeralOwner = 0x0" "numChildren = 1"
    # Deleted by the container sweep (checkIntervalMs=1000) once its last child is gone.
    gone /zkcli/cont 15 || fail "container /zkcli/cont still there after 15 s"
    zk stat /zkcli/cont-empty # never had a child: kept
    rc_is 0
}

sc_ttl() {
    zk <<EOF
create -t 2000 /zkcli/ttl t
stat /zkcli/ttl
create -t 600000 /zkcli/ttl-long l
EOF
    has_err "Created /zkcli/ttl" "Created /zkcli/ttl-long"
    has_out "ephemeralOwner = 0x0" "dataLength = 1"
    gone /zkcli/ttl 15 || fail "TTL node /zkcli/ttl still there after 15 s"
    zk get /zkcli/ttl-long
    rc_is 0
    has_out l
}

sc_set_version() {
    zk <<EOF
create /zkcli/ver a
set -v 3 /zkcli/ver b
set -v 0 /zkcli/ver c
set -s -v 1 /zkcli/ver d
get /zkcli/ver
EOF
    has_err "version No is not valid : /zkcli/ver"
    in_order "dataVersion = 2" d
}

sc_delete_version() {
    zk <<EOF
create /zkcli/dv a
set /zkcli/dv b
delete -v 0 /zkcli/dv
get /zkcli/dv
delete -v 1 /zkcli/dv
stat /zkcli/dv
EOF
    has_err "version No is not valid : /zkcli/dv" "Node does not exist: /zkcli/dv"
    has_out b
}

sc_deleteall() {
    zk <<EOF
create /zkcli/da
create /zkcli/da/a
create /zkcli/da/a/b
create /zkcli/da/a/b/c
create /zkcli/da/d
deleteall /zkcli/da
stat /zkcli/da
deleteall /zkcli/da-nope
EOF
    has_err "Node does not exist: /zkcli/da"
    zk ls /zkcli/da
    rc_is 1
}

sc_sync() {
    zk sync /zkcli
    rc_is 0
    has_out "Sync is OK"
    zk sync /zkcli/nope # sync does not look at the path
    rc_is 0
    has_out "Sync is OK"
}

sc_config() {
    zk <<EOF
config -s
getAcl /zookeeper/config
ls /zookeeper
reconfig -remove 3
EOF
    [ "$ERR" = "KeeperErrorCode = Reconfig is disabled" ] || fail "stderr: $(show "$ERR")"
    # Standalone: /zookeeper/config is empty, read-only and has aclVersion -1.
    has_out "aclVersion = -1" "dataLength = 0" "'world,'anyone" ": r"
    grep -qE '^\[(config, quota|quota, config)\]$' <<<"$OUT" || fail "ls /zookeeper: $(show "$OUT")"
}

sc_add_watch_recursive() {
    zk <<EOF
addWatch -m PERSISTENT_RECURSIVE /zkcli/rw
create /zkcli/rw
create /zkcli/rw/x 1
set /zkcli/rw/x 2
set /zkcli/rw/x 3
delete /zkcli/rw/x
$SETTLE
EOF
    count_out 1 "$(event NodeCreated /zkcli/rw)"
    count_out 1 "$(event NodeCreated /zkcli/rw/x)"
    count_out 2 "$(event NodeDataChanged /zkcli/rw/x)" # persistent: every change
    count_out 1 "$(event NodeDeleted /zkcli/rw/x)"
    count_out 0 "$(event NodeChildrenChanged /zkcli/rw)" # recursive watches get no child events
}

sc_add_watch_persistent() {
    zk <<EOF
addWatch -m PERSISTENT /zkcli/pw
create /zkcli/pw
create /zkcli/pw/c
set /zkcli/pw/c x
set /zkcli/pw a
set /zkcli/pw b
$SETTLE
EOF
    count_out 1 "$(event NodeCreated /zkcli/pw)"
    count_out 1 "$(event NodeChildrenChanged /zkcli/pw)"
    count_out 2 "$(event NodeDataChanged /zkcli/pw)"
    count_out 0 "$(event NodeDataChanged /zkcli/pw/c)" # not recursive
}

sc_whoami() {
    zk whoami
    rc_is 0
    has_out "Auth scheme: User" "ip: 127.0.0.1"
    lacks_out "digest: u"
    zk <<EOF
addauth digest u:p
whoami
EOF
    in_order "Auth scheme: User" "ip: 127.0.0.1" "digest: u"
}

sc_get_ephemerals() {
    zk <<EOF
create /zkcli/ge
create -e /zkcli/ge/a
create -e /zkcli/ge/b
create -e /zkcli/gex
getEphemerals /zkcli/ge
getEphemerals
getEphemerals /zkcli/nothing
EOF
    # The filter is a plain string prefix: /zkcli/gex matches /zkcli/ge.
    local lines; mapfile -t lines < <(grep '^\[' <<<"$OUT")
    [ "$(sorted_list "${lines[0]:-}")" = "/zkcli/ge/a /zkcli/ge/b /zkcli/gex" ] ||
        fail "getEphemerals /zkcli/ge: ${lines[0]:-}"
    [ "$(sorted_list "${lines[1]:-}")" = "/zkcli/ge/a /zkcli/ge/b /zkcli/gex" ] ||
        fail "getEphemerals: ${lines[1]:-}"
    [ "${lines[2]:-}" = "[]" ] || fail "getEphemerals /zkcli/nothing: ${lines[2]:-}"
}

sc_all_children_number() {
    zk <<EOF
create /zkcli/acn
create /zkcli/acn/a
create /zkcli/acn/a/b
create /zkcli/acn/a/b/c
create /zkcli/acn/d
getAllChildrenNumber /zkcli/acn
getAllChildrenNumber /zkcli/acn/d
getAllChildrenNumber /zkcli/acn-nope
EOF
    in_order 4 0
    has_err "Node does not exist: /zkcli/acn-nope"
}

sc_remove_watches() {
    zk <<EOF
create /zkcli/rm
get -w /zkcli/rm
removewatches /zkcli/rm
set /zkcli/rm x
ls -w /zkcli/rm
get -w /zkcli/rm
removewatches /zkcli/rm -c
create /zkcli/rm/kid
set /zkcli/rm y
removewatches /zkcli/rm
$SETTLE
EOF
    count_out 1 "$(event DataWatchRemoved /zkcli/rm)"
    count_out 1 "$(event ChildWatchRemoved /zkcli/rm)"
    count_out 1 "$(event NodeDataChanged /zkcli/rm)" # only the second get -w's watch fired
    count_out 0 "$(event NodeChildrenChanged /zkcli/rm)"
    has_err "KeeperErrorCode = No such watcher for /zkcli/rm"
}

sc_quota() {
    # The server keeps /zookeeper/quota/<path>/zookeeper_stats up to date on every write
    # under a path with a quota: count of nodes (the path itself included), bytes of data.
    zk <<EOF
create /zkcli/q
setquota -n 3 /zkcli/q
setquota -b 10 /zkcli/q
create /zkcli/q/a 12345
create /zkcli/q/b 123456789
create /zkcli/q/c
create /zkcli/q/d
delete /zkcli/q/d
set /zkcli/q/c xy
listquota /zkcli/q
get /zookeeper/quota/zkcli/q/zookeeper_stats
delquota -n /zkcli/q
listquota /zkcli/q
EOF
    in_order "Output quota for /zkcli/q count=3,bytes=10=;byteHardLimit=-1;countHardLimit=-1" \
        "Output stat for /zkcli/q count=4,bytes=16" "count=4,bytes=16" \
        "Output quota for /zkcli/q count=-1,bytes=10=;byteHardLimit=-1;countHardLimit=-1" \
        "Output stat for /zkcli/q count=4,bytes=16"
    zk <<EOF
delquota /zkcli/q
ls /zookeeper/quota/zkcli
EOF
    [ "$ERR" = "Node does not exist: /zookeeper/quota/zkcli" ] ||
        fail "quota nodes left after delquota: $(show "$ERR")"
}

sc_server_errors() {
    # Refusals the server decides (zkCli checks none of these itself).
    zk <<EOF
create /zookeeper/zkcli-x
delete /zookeeper/zkcli-x
set /zookeeper/config x
create /zookeeper/config/x
delete /zookeeper/quota
create /zkcli/se
setAcl /zkcli/se auth::cdrwa
create /zkcli/se/a x ip:300.1.1.1:cdrwa
create /zkcli/se/b x world:nobody:cdrwa
create /zkcli/se/c x foo:bar:cdrwa
create /zkcli/se/d x ip:10.0.0.0/8:cdrwa
get /zkcli/se/d
delete /zkcli/se/d
create -t 1099511627775 /zkcli/se/tmax
create -c /zkcli/se/cont
create -e /zkcli/se/cont/e
ls /zkcli/se
EOF
    has_err "Created /zookeeper/zkcli-x" "Insufficient permission : /zookeeper/config" \
        "Insufficient permission : /zookeeper/config/x" \
        "Arguments are not valid : /zookeeper/quota" "Acl is not valid : /zkcli/se" \
        "KeeperErrorCode = InvalidACL for /zkcli/se/a" "Acl is not valid : /zkcli/se/a" \
        "KeeperErrorCode = InvalidACL for /zkcli/se/b" "KeeperErrorCode = InvalidACL for /zkcli/se/c" \
        "Created /zkcli/se/d" "Insufficient permission : /zkcli/se/d" "Created /zkcli/se/tmax" \
        "Created /zkcli/se/cont/e"
    has_out "[cont, tmax]"
}

sc_auth_failed() {
    # An unknown auth scheme: the server answers AuthFailed and closes the session.
    zk <<EOF
addauth nosuchscheme secret
ls /
EOF
    has_out "WatchedEvent state:AuthFailed type:None path:null"
    has_err "KeeperErrorCode = AuthFailed for /"
}

# ---------------------------------------------------------------- main

printf 'addauth digest u:p\ndelete /zkcli/se/d\ndeleteall /zkcli\ndelquota /zkcli/q\n' | zk # left by an earlier run, if any
zk create /zkcli
for sc in "${SCENARIOS[@]}"; do
    FAIL=
    "sc_$sc"
    if [ -z "$FAIL" ]; then echo "RESULT zkcli $sc pass"; else echo "RESULT zkcli $sc fail $FAIL"; fi
done
