# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The soak of `scripts/demo --soak [MINUTES]`, sourced by scripts/demo once its setup is done (servers, two app
# instances, beacon-confd and nginx): the demo's load runs for a warm-up minute and MINUTES more, a fault is injected
# at the start of every minute, and the resources of the long-lived processes (app-1 and beacon-confd, which no fault
# restarts) are sampled at the end of every minute. See Documentation/Soak.md.

# The faults, in turn; BEACON_SOAK_FAULTS can name a subset (e.g. "failover" alone, to see what failovers cost).
read -r -a SOAK_FAULTS <<<"${BEACON_SOAK_FAULTS:-failover memcached-frozen memcached-joins etcd-frozen drain}"
SOAK_RSS_BOUND=5 # percent of growth allowed after the warm-up minute

# Prints "rss_kib fds threads connections workers" of a process, or fails. connections counts its TCP connections
# (all pooled: PostgreSQL's pool, memcached's handles and the etcd client's HTTP connections open and close them as
# they need); workers counts the threads of Dispatch's worker pool (their names end in "qos" or "qos.overcommit"),
# which Swift's runtime starts and reaps by itself; threads counts the others.
soak_sample() { # pid
    local rss names threads workers fds connections
    rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
    # One reading of the thread names for both counts.
    names=$(cat "/proc/$1"/task/*/comm 2>/dev/null || true)
    threads=$(grep -c . <<<"$names") || true
    workers=$(grep -c -E 'qos(\.overcommit)?$' <<<"$names") || true
    fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    connections=$(ss -tanpH 2>/dev/null | awk -v pid="pid=$1," 'index($0, pid) && $1 != "LISTEN" { c++ }
        END { print c + 0 }')
    [[ -n $rss && $threads -gt 0 ]] || return 1
    echo "$rss $fds $((threads - workers)) $connections $workers"
}

# The most TCP connections the app's pools may hold: 10 to PostgreSQL, 4 per memcached server (3 once memcached-4
# has left), and the etcd client's: its watch streams and at most 8 requests at once.
SOAK_CONNECTION_BOUND=34

# Prints soak_sample's fields, each the least of five samples 0.3 s apart: a descriptor or a thread that lives for
# a moment (the cache's persistence writer opens its file, writes, syncs, and its thread ends) is not a leak, and
# one that stays is in every sample.
soak_sample_least() { # pid
    local samples=() i
    for ((i = 0; i < 5; i++)); do
        samples+=("$(soak_sample "$1")") || return 1
        ((i == 4)) || sleep 0.3
    done
    printf '%s\n' "${samples[@]}" | awk '
        { for (f = 1; f <= NF; f++) if (NR == 1 || $f < least[f]) least[f] = $f; n = NF }
        END { for (f = 1; f <= n; f++) printf "%s%s", least[f], (f < n ? " " : "\n") }'
}

# Appends what a process's descriptors are to the soak's descriptor log ($DEMO_DIR/soak-fds.log): TCP connections
# by the peer's port, and how many descriptors it has in all.
soak_describe_fds() { # label pid
    {
        printf '%s %s pid %s: ' "$(date +%T)" "$1" "$2"
        ss -tanpH 2>/dev/null | awk -v pid="pid=$2," 'index($0, pid) {
                n = split($5, peer, ":"); key = $1 == "LISTEN" ? "listen" : "to:" peer[n]
                count[key]++; total++
            }
            END { for (k in count) printf "%s=%d ", k, count[k]; printf "(tcp %d) ", total }'
        printf 'all fds %s; ' "$(find "/proc/$2/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
        printf 'other fds: %s; ' "$(find "/proc/$2/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null |
            grep -v '^socket:' | sed 's/:\[.*//' | sort | uniq -c | awk '{ printf "%s %s, ", $2, $1 }')"
        printf 'threads: %s\n' "$(cat "/proc/$2"/task/*/comm 2>/dev/null | sort | uniq -c | awk '{ printf "%s %s, ", $2, $1 }')"
    } >>"$DEMO_DIR/soak-fds.log"
}

# Injects one fault and ends it; returns within about 45 s. Prints one line on what happened.
soak_fault() { # name
    local t0 old node api
    t0=$(now)
    case $1 in
        failover | memcached-frozen | memcached-joins | etcd-frozen | drain) ;;
        *)
            echo "unknown fault '$1' (BEACON_SOAK_FAULTS takes failover, memcached-frozen, memcached-joins, etcd-frozen, drain)"
            return
            ;;
    esac
    case $1 in
        failover)
            old=$(etcdctl_ get --print-value-only "$LEADER_KEY")
            case $old in
                n1) node=patroni-1 api=$BEACON_PATRONI_1_API_PORT ;;
                *) node=patroni-2 api=$BEACON_PATRONI_2_API_PORT ;;
            esac
            scripts/servers kill "$node" >>"$DEMO_DIR/servers.log" 2>&1 || true
            if wait_until "$FAILOVER_BOUND" saw PUT "$LEADER_KEY" "$t0"; then
                scripts/servers start "$node" >>"$DEMO_DIR/servers.log" 2>&1 || true
                wait_until 30 curl -sf -m 1 -o /dev/null "http://127.0.0.1:$api/replica" || true
                echo "killed the leader $node ($old); a new leader in $(secs "$t0" "$SAW") s; $node rejoined"
            else
                scripts/servers start "$node" >>"$DEMO_DIR/servers.log" 2>&1 || true
                echo "killed the leader $node ($old); no new leader within $FAILOVER_BOUND s"
            fi
            ;;
        memcached-frozen)
            scripts/servers freeze memcached-2 >>"$DEMO_DIR/servers.log" 2>&1
            sleep 10
            scripts/servers thaw memcached-2 >>"$DEMO_DIR/servers.log" 2>&1
            echo "memcached-2 frozen (SIGSTOP) for 10 s"
            ;;
        memcached-joins)
            BEACON_SERVERS_DIR=$EXTRA_SERVERS_DIR BEACON_MEMCACHED_1_PORT=$MEMCACHED_4_PORT \
                scripts/servers start memcached-1 >>"$DEMO_DIR/servers.log" 2>&1 || true
            etcd_put /memcached/servers/memcached-4 "$(instance_json memcached memcached-4 "$MEMCACHED_4_PORT")"
            sleep 20
            etcdctl_ del /memcached/servers/memcached-4 >/dev/null
            sleep 2
            BEACON_SERVERS_DIR=$EXTRA_SERVERS_DIR BEACON_MEMCACHED_1_PORT=$MEMCACHED_4_PORT \
                scripts/servers stop memcached-1 >>"$DEMO_DIR/servers.log" 2>&1 || true
            echo "memcached-4 registered for 20 s, then deregistered and stopped"
            ;;
        etcd-frozen)
            scripts/servers freeze etcd-patroni >>"$DEMO_DIR/servers.log" 2>&1
            sleep 2
            scripts/servers thaw etcd-patroni >>"$DEMO_DIR/servers.log" 2>&1
            echo "etcd (discovery and Patroni's store) frozen (SIGSTOP) for 2 s"
            ;;
        drain)
            local pid
            pid=$(app_pid 2) && kill -TERM "$pid" && wait_gone "$pid" $((DRAIN + 8))
            t0=$(now)
            start_app 2
            if wait_until 30 saw PUT "/services/$SERVICE/app-2" "$t0"; then
                echo "app-2 drained on SIGTERM, started again and registered in $(secs "$t0" "$SAW") s"
            else
                echo "app-2 drained on SIGTERM and did not register again within 30 s"
            fi
            ;;
    esac
}

# Plays the soak; sets SOAK_FLAT to 1 when every sampled process stayed flat.
SOAK_FLAT=
play_soak() { # minutes
    local minutes=$1 total t_start minute fault what deadline name pid sample
    local -A first=() last=()
    total=$(((minutes + 1) * 60))
    echo "soak: $minutes minutes after a warm-up minute, a fault at the start of every minute, under load"
    start_load soak $((total + 5))
    t_start=$(now)
    printf '  %-7s %-18s %-28s %-28s %s\n' minute fault "app-1 rss/fds/thr/tcp/wk" "confd rss/fds/thr/tcp/wk" \
        "what happened"
    for name in app confd; do
        if [[ $name == app ]]; then pid=$(app_pid 1) || pid=; else pid=$(confd_pid) || pid=; fi
        sample=$( [[ -n $pid ]] && soak_sample "$pid") || sample="- - - - -"
        last[$name]=$sample
    done
    printf '  %-7s %-18s %-28s %-28s %s\n' start - "${last[app]// //}" "${last[confd]// //}" "load started"
    for ((minute = 0; minute <= minutes; minute++)); do
        fault=${SOAK_FAULTS[$((minute % ${#SOAK_FAULTS[@]}))]}
        what=$(soak_fault "$fault")
        deadline=$(awk -v t="$t_start" -v m="$minute" 'BEGIN { printf "%.3f", t + (m + 1) * 60 }')
        while le "$(now)" "$deadline"; do sleep 0.5; done
        for name in app confd; do
            if [[ $name == app ]]; then pid=$(app_pid 1) || pid=; else pid=$(confd_pid) || pid=; fi
            sample=$( [[ -n $pid ]] && soak_sample_least "$pid") || sample="- - - - -"
            last[$name]=$sample
            ((minute > 0)) || first[$name]=$sample
            [[ -z $pid ]] || soak_describe_fds "$name" "$pid"
        done
        printf '  %-7s %-18s %-28s %-28s %s\n' "$((minute + 1))$( ((minute > 0)) || echo ' (w)')" "$fault" \
            "${last[app]// //}" "${last[confd]// //}" "$what"
    done
    finish_load
    local sent ok errors answers
    read -r sent ok errors answers < <(load_totals "$DEMO_DIR/load-soak.log")
    line load "$sent requests at $RATE/s, $ok answered, $errors failed; answers by instance: ${answers:-none}"
    SOAK_FLAT=1
    for name in app confd; do
        local r0 f0 n0 p0 w0 r1 f1 n1 p1 w1 growth label
        label=$([[ $name == app ]] && echo app-1 || echo beacon-confd)
        read -r r0 f0 n0 p0 w0 <<<"${first[$name]}"
        read -r r1 f1 n1 p1 w1 <<<"${last[$name]}"
        if [[ $r0 == - || $r1 == - ]]; then
            line "$label" "not running at a sample"
            SOAK_FLAT=
            continue
        fi
        growth=$(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
        line "$label" "RSS ${r0} KiB after the warm-up, ${r1} KiB at the end (${growth}%, bound ${SOAK_RSS_BOUND}%)"
        line "" "descriptors besides TCP connections $((f0 - p0)) -> $((f1 - p1)); threads besides Dispatch's workers $n0 -> $n1 (workers $w0 -> $w1)"
        line "" "TCP connections $p0 -> $p1 (the pools' bound: $SOAK_CONNECTION_BOUND)"
        if ! le "$growth" "$SOAK_RSS_BOUND" || ((f0 - p0 != f1 - p1 || n0 != n1 || p1 > SOAK_CONNECTION_BOUND)); then
            SOAK_FLAT=
        fi
    done
    echo "  (the load's errors are the faults' own: a killed leader's queries, a frozen server's keys; the soak's"
    echo "   goal is that nothing leaks, and it is checked on the samples above; app-1's log: $DEMO_DIR/app-1.log)"
    if [[ -n $SOAK_FLAT ]]; then
        verdict held "after $minutes minutes of faults, RSS grew under ${SOAK_RSS_BOUND}%, descriptors and threads came back, connections stayed within the pools' bounds"
    else
        verdict short "RSS grew ${SOAK_RSS_BOUND}% or more, descriptors or threads did not come back, or pools overran"
    fi
}
