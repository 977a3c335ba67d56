# scripts/services.d/redis-cluster.sh — sourced by scripts/services (uses its helpers).
#
# A Redis Cluster of three masters (no replicas) from Debian's redis-server, on loopback,
# for the contract suites' cluster variants (issue 16 A.3):
#   ports 56391 56392 56393 (CUSTOMERS_REDIS_CLUSTER_PORTS overrides), cluster bus on
#   port - 10000 (Redis' default, port + 10000, is past 65535 for these ports), no
#   persistence; state in $STATE_DIR/redis-cluster/<port>.
# Tests reach it as CUSTOMERS_TEST_REDIS_CLUSTER_URL=redis+cluster://127.0.0.1:56391/0, the
# scheme the service itself reads as "a cluster" (docs/operations.md).
#
# Idempotent: three live nodes reporting cluster_state:ok are left alone. Anything less (a
# node died, a nodes.conf lost) is rebuilt whole — stopped, wiped and created again — since
# the cluster keeps no data worth saving.

read -r -a REDIS_CLUSTER_PORTS <<<"${CUSTOMERS_REDIS_CLUSTER_PORTS:-56391 56392 56393}"
REDIS_CLUSTER_DIR="$STATE_DIR/redis-cluster"

rc_pidfile() { echo "$REDIS_CLUSTER_DIR/$1/redis.pid"; }

# cluster_ok PORT: that node answers and sees the whole cluster healthy.
rc_ok() {
    local state
    state=$(/usr/bin/redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | tr -d '\r' |
        grep '^cluster_state:' || true)
    [[ $state == cluster_state:ok ]]
}

rc_healthy() {
    local port
    for port in "${REDIS_CLUSTER_PORTS[@]}"; do
        pid_from "$(rc_pidfile "$port")" >/dev/null && rc_ok "$port" || return 1
    done
}

rc_start_node() {
    local port=$1 dir="$REDIS_CLUSTER_DIR/$1"
    running "redis-cluster:$port" "$(rc_pidfile "$port")" "$port" && return 0
    port_open $((port - 10000)) && die "port 127.0.0.1:$((port - 10000)) (cluster bus of $port) is in use"
    mkdir -p "$dir"
    rm -f "$dir/nodes.conf" "$dir/dump.rdb" "$(rc_pidfile "$port")"
    cat >"$dir/redis.conf" <<CONF
# written by scripts/services
bind 127.0.0.1
port $port
protected-mode yes
daemonize yes
pidfile $(rc_pidfile "$port")
logfile $dir/redis.log
dir $dir
save ""
appendonly no
cluster-enabled yes
cluster-config-file nodes.conf
cluster-port $((port - 10000))
cluster-node-timeout 5000
CONF
    /usr/bin/redis-server "$dir/redis.conf" || die "redis-server $port failed to start (log: $dir/redis.log)"
    local i
    for ((i = 0; i < 40; i++)); do [[ -s $(rc_pidfile "$port") ]] && break; sleep 0.25; done
    wait_port "redis-cluster:$port" "$port" "$(pid_from "$(rc_pidfile "$port")" || true)" "$dir/redis.log"
}

up_redis_cluster() {
    local first=${REDIS_CLUSTER_PORTS[0]} port nodes=() i
    if rc_healthy; then
        log "redis-cluster: already running on 127.0.0.1:${REDIS_CLUSTER_PORTS[*]}"
        return 0
    fi
    for port in "${REDIS_CLUSTER_PORTS[@]}"; do # whatever is left of an unhealthy one
        if pid_from "$(rc_pidfile "$port")" >/dev/null; then stop_pid "redis-cluster:$port" "$(rc_pidfile "$port")"; fi
    done
    log "redis-cluster: starting 3 masters on 127.0.0.1:${REDIS_CLUSTER_PORTS[*]}"
    for port in "${REDIS_CLUSTER_PORTS[@]}"; do
        rc_start_node "$port"
        nodes+=("127.0.0.1:$port")
    done
    /usr/bin/redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
        >"$REDIS_CLUSTER_DIR/create.log" 2>&1 ||
        { tail -n 20 "$REDIS_CLUSTER_DIR/create.log" >&2; die "redis-cli --cluster create failed (log: $REDIS_CLUSTER_DIR/create.log)"; }
    for ((i = 0; i < WAIT_TIMEOUT * 4; i++)); do
        rc_healthy && break
        sleep 0.25
    done
    rc_healthy || die "redis-cluster: not cluster_state:ok within ${WAIT_TIMEOUT}s (logs: $REDIS_CLUSTER_DIR/*/redis.log)"
    log "redis-cluster: up (seed 127.0.0.1:$first)"
}

down_redis_cluster() {
    local port
    for port in "${REDIS_CLUSTER_PORTS[@]}"; do
        stop_pid "redis-cluster:$port" "$(rc_pidfile "$port")"
    done
}

# status lines: name|pidfile|port, one per node
rc_status_specs() {
    local port
    for port in "${REDIS_CLUSTER_PORTS[@]}"; do
        echo "rcluster-$port|$(rc_pidfile "$port")|$port"
    done
}
