"""Day 0 of storage: the region's storage servers formed into a Ceph cluster, over SSH.

Every step is a `pulumi_command.remote.Command` on one server, run as root with the region's
deploy key, in the order Ceph needs (../shared/notes/ceph.md):

    node-<server>   ceph.conf and the client.admin keyring on every storage server
    mon-<server>    a monitor on each of the first three (one where there is one)
    mgr             a manager with the dashboard module on the first server
    dashboard-user  the dashboard's administrator, with a generated password
    osd-<server>    one OSD per storage server (memstore in the lab; a device in real regions)
    rgw             RGW on the first server, and its Admin Ops user (`rgw-admin-user`)

Each script checks before it acts, so a re-run after a failure converges; `update` is the same
script as `create`, so a changed input (the `triggers`) re-runs just the steps it affects rather
than replacing them; `delete` undoes the step (stops the daemon by its pid file, removes its key
and data). Secrets (cephx keys, the dashboard password) travel on stdin, which is secret in
state; the commands' output is not logged, and the output that carries keys is secret.

The cluster's secrets (fsid, monitor and admin keys, dashboard password, and the deploy key when
the operator gives none) are generated once by `components.keygen` in a `local.Command` and live
only in state, encrypted.
"""

from __future__ import annotations

import functools
import json
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_command import local, remote

from components.keygen import public_key_of

TYPE = "privatecloud:storage:CephCluster"
MON_PORT = 3300
DASHBOARD_PORT = 8080
RGW_PORT = 7480
DASHBOARD_USER = "admin"
RGW_ADMIN_UID = "admin-ops"
RGW_ADMIN_CAPS = "users=*;buckets=*;metadata=*;usage=*;zone=*"
RGW_POOLS = (
    ".rgw.root", "default.rgw.control", "default.rgw.meta", "default.rgw.log",
    "default.rgw.buckets.index", "default.rgw.buckets.data", "default.rgw.buckets.non-ec",
)
MAX_MONS = 3
OSD_DRAIN_TIMEOUT = 600

# Where an OSD that is out stands (argv[1]: its id), for its delete step: "drained" (no placement
# group maps to it and all are active+clean), "alone" (no other OSD is up and in: nowhere to move
# them), or what is still in the way.
DRAIN_STATE = r"""
import collections, json, subprocess, sys
osd = int(sys.argv[1])
def ceph(*args):
    out = subprocess.run(["ceph", "--connect-timeout", "30", *args, "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)
if not [o for o in ceph("osd", "dump")["osds"] if o["osd"] != osd and o["up"] and o["in"]]:
    print("alone"); sys.exit()
pgs = ceph("pg", "dump", "pgs_brief")
pgs = pgs.get("pg_stats", []) if isinstance(pgs, dict) else pgs
on_it = [p for p in pgs if osd in p.get("up", []) or osd in p.get("acting", [])]
states = collections.Counter(p["state"] for p in pgs if p["state"] != "active+clean")
if not on_it and not states:
    print("drained"); sys.exit()
print(f"{len(on_it)} placement group(s) still on osd.{osd}; not active+clean: "
      + (", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none"))
"""

# Shell helpers every script starts with: start a daemon unless its pid file names a live process,
# stop one by its pid file (never by name), and wait for a condition with a deadline.
PRELUDE = r"""set -euo pipefail
mkdir -p /run/ceph /var/lib/ceph/log
ceph() { command ceph --connect-timeout 60 "$@"; }
daemon() {  # daemon PROGRAM ARGS...: start a Ceph daemon detached from this SSH session
  "$@" </dev/null >>/var/lib/ceph/log/daemons.log 2>&1
}
running() { local pid; pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
stop_pidfile() {  # the pid is read once: a daemon may exit and remove its file meanwhile (a mon removed)
  local pid
  pid=$(cat "$1" 2>/dev/null) || true
  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$1"
}
keyring_entry() {  # keyring_entry NAME KEY CAPS...: a keyring section; printf is a builtin, so
  local name=$1 key=$2; shift 2  # the key never appears in a process's command line
  printf '[%s]\n\tkey = %s\n' "$name" "$key"
  while [ $# -gt 0 ]; do printf '\tcaps %s = "%s"\n' "$1" "$2"; shift 2; done
}
ADMIN_CAPS=(mds 'allow *' mgr 'allow *' mon 'allow *' osd 'allow *')
http_answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1")" != 000 ]; }
until_ok() {  # until_ok SECONDS WHAT COMMAND...: retry COMMAND until it succeeds or time is up
  local deadline=$(( $(date +%s) + $1 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "timed out waiting for $what" >&2; "$@"; return 1; fi
    sleep 0.5
  done
}
"""


@dataclass
class CephHost:
    name: str
    """The server's name: its hostname, and the id of its monitor and manager."""
    address: pulumi.Input[str]
    """Where it answers SSH, and the address its daemons bind."""
    osd_device: str | None = None
    """Block device for its OSD (ceph-volume); None: a memstore OSD (the lab)."""


@dataclass
class CephClusterArgs:
    hosts: Sequence[CephHost]
    """The storage servers, in order: monitors on the first three, manager and RGW on the first."""
    private_key: pulumi.Input[str] | None = None
    """The operator's SSH deploy key for root (secret); None: the program generates one."""
    public_network: str = "127.0.0.0/8"
    """Ceph's public network (where monitors and OSDs talk)."""
    lab: bool = False
    """Lab settings: pools of one replica allowed, no warnings about it, small memstore OSDs."""
    allow_osd_purge: bool = False
    """OSDs hold data: a removed server's OSD is marked out, and once Ceph has moved its data away it
    is stopped and stays in the OSD map, unless this is set, which then purges it and wipes its store."""
    osd_drain_timeout: int = OSD_DRAIN_TIMEOUT
    """Seconds a removed server's OSD waits, after `out`, for its placement groups to be active+clean
    on other OSDs; past it the removal is refused (and the OSD marked in again)."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What must be done before the first SSH connection (the bare-metal deploys)."""
    secrets: ClusterSecrets | None = None
    """The cluster's generated secrets, when the caller made them first (the region does, since the
    deploy key's public half goes into the servers' config drives before they are deployed)."""
    file_system: str | None = None
    """A CephFS file system of this name (its two pools and a metadata server on the first server:
    the pools' cephfs SRs); None: none. Removing it stops the MDS and keeps the file system's data."""


def _q(value: str) -> str:
    return shlex.quote(value)


def _secret(value: pulumi.Input[Any]) -> pulumi.Output[Any]:
    return pulumi.Output.secret(value)


class ClusterSecrets(pulumi.ComponentResource):
    """fsid, cephx keys, dashboard password (and a deploy key) generated once, kept secret in state.

    `components.keygen` runs in a `local.Command` whose stdout is secret and never logged; it runs
    on create only (its command line is ignored afterwards, so a moved virtualenv changes nothing).
    """

    values: pulumi.Output[dict[str, str]]
    fsid: pulumi.Output[str]
    ssh_private_key: pulumi.Output[str]
    ssh_public_key: pulumi.Output[str]

    def __init__(self, name: str, *, generate_ssh_key: bool, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("privatecloud:storage:ClusterSecrets", name, None, opts)
        keygen = local.Command(
            f"{name}-keygen",
            local.CommandArgs(
                create=f"{_q(sys.executable)} -m components.keygen" + (" --ssh" if generate_ssh_key else ""),
                logging=local.Logging.NONE,
            ),
            pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stdout"], ignore_changes=["create"]),
        )
        self.values = _secret(keygen.stdout).apply(json.loads)
        self.fsid = pulumi.Output.unsecret(self.values["fsid"])
        self.ssh_private_key = _secret(self.values.apply(lambda v: v.get("sshPrivateKey", "")))
        self.ssh_public_key = pulumi.Output.unsecret(self.values.apply(lambda v: v.get("sshPublicKey", "")))
        self.register_outputs({"fsid": self.fsid})


class CephCluster(pulumi.ComponentResource):
    """A Ceph cluster formed on deployed servers; its outputs feed the `ceph.*` providers."""

    fsid: pulumi.Output[str]
    public_key: pulumi.Output[str]
    mon_addresses: pulumi.Output[list[str]]
    dashboard_url: pulumi.Output[str]
    file_system: pulumi.Output[str | None]
    dashboard_user: pulumi.Output[str]
    dashboard_password: pulumi.Output[str]
    rgw_url: pulumi.Output[str]
    rgw_access_key: pulumi.Output[str]
    rgw_secret_key: pulumi.Output[str]
    commands: dict[str, remote.Command]

    def __init__(self, name: str, args: CephClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        if not args.hosts:
            raise ValueError(f"{name}: hosts=[]: a Ceph cluster needs at least one storage server")
        self._name = name
        self._args = args
        self.commands = {}

        secrets = args.secrets or ClusterSecrets(
            f"{name}-secrets", generate_ssh_key=args.private_key is None, opts=pulumi.ResourceOptions(parent=self)
        )
        self.fsid = secrets.fsid
        if args.private_key is not None:
            self._key = _secret(args.private_key)
            self.public_key = pulumi.Output.unsecret(self._key.apply(public_key_of))
        else:
            self._key = secrets.ssh_private_key
            self.public_key = secrets.ssh_public_key
        values = secrets.values

        hosts = list(args.hosts)
        mons = hosts[:MAX_MONS]
        addresses = pulumi.Output.all(*[pulumi.Output.from_input(h.address) for h in hosts])
        self.mon_addresses = addresses.apply(lambda a: [f"{x}:{MON_PORT}" for x in a[: len(mons)]])
        keys = _secret(pulumi.Output.all(values["monKey"], values["adminKey"])).apply(
            lambda k: f"{k[0]}\n{k[1]}\n"
        )
        first = hosts[0]

        # ceph.conf and the admin keyring everywhere; the conf names every monitor.
        nodes: dict[str, remote.Command] = {}
        fsid_and_addresses = pulumi.Output.all(self.fsid, addresses)
        for i, h in enumerate(hosts):
            conf = fsid_and_addresses.apply(functools.partial(self._conf, index=i, n_mons=len(mons)))
            nodes[h.name] = self._cmd(
                f"node-{h.name}", h, conf.apply(self._node_script), stdin=keys,
                delete="rm -f /etc/ceph/ceph.conf /etc/ceph/ceph.client.admin.keyring",
                deps=list(args.depends_on),
            )
        mon_cmds = []
        for h in mons:
            script = fsid_and_addresses.apply(
                functools.partial(self._mon_script, h.name, [m.name for m in mons])
            )
            mon_cmds.append(self._cmd(f"mon-{h.name}", h, script, stdin=keys, delete=self._mon_delete(h.name),
                                      deps=[nodes[h.name]]))
        first_address = pulumi.Output.from_input(first.address)
        defaults = self._pool_defaults(len(mons))
        mgr = self._cmd("mgr", first, first_address.apply(lambda a: self._mgr_script(first.name, a, defaults)),
                        delete=self._mgr_delete(first.name), deps=mon_cmds)
        dashboard_password = _secret(values["dashboardPassword"])
        dash_user = self._cmd("dashboard-user", first, pulumi.Output.from_input(self._dashboard_user_script()),
                              stdin=dashboard_password.apply(lambda p: f"{p}\n"),
                              delete=(f"timeout 60 ceph dashboard ac-user-delete {DASHBOARD_USER}"
                                      " >/dev/null 2>&1 || true"),
                              deps=[mgr])
        osds = [
            self._cmd(f"osd-{h.name}", h, pulumi.Output.from_input(self._osd_script(h)),
                      delete=self._osd_delete(args.allow_osd_purge, args.osd_drain_timeout),
                      deps=[*mon_cmds, nodes[h.name]])
            for h in hosts
        ]
        rgw = self._cmd("rgw", first, first_address.apply(lambda a: self._rgw_script(first.name, a)),
                        delete=self._rgw_delete(first.name), deps=osds)
        rgw_user = self._cmd("rgw-admin-user", first, pulumi.Output.from_input(self._rgw_user_script()),
                             delete=f"timeout 60 radosgw-admin user rm --uid={RGW_ADMIN_UID} >/dev/null 2>&1 || true",
                             deps=[rgw], secret_stdout=True)
        rgw_keys = _secret(rgw_user.stdout).apply(json.loads)

        mds = [] if args.file_system is None else [
            self._cmd("mds", first, pulumi.Output.from_input(self._mds_script(first.name, args.file_system)),
                      delete=self._mds_delete(first.name), deps=[mgr, *osds])]
        self.file_system = pulumi.Output.all(*[m.id for m in mds]).apply(lambda _: args.file_system)

        ready = pulumi.Output.all(dash_user.id, rgw_user.id, *[o.id for o in osds], *[m.id for m in mds])
        self.dashboard_url = pulumi.Output.all(first_address, ready).apply(
            lambda v: f"http://{v[0]}:{DASHBOARD_PORT}"
        )
        self.dashboard_user = ready.apply(lambda _: DASHBOARD_USER)
        self.dashboard_password = _secret(
            pulumi.Output.all(dashboard_password, ready).apply(lambda v: str(v[0]))
        )
        self.rgw_url = pulumi.Output.all(first_address, ready).apply(lambda v: f"http://{v[0]}:{RGW_PORT}")
        self.rgw_access_key = pulumi.Output.unsecret(rgw_keys["access_key"])
        self.rgw_secret_key = _secret(rgw_keys["secret_key"])
        self.register_outputs({
            "fsid": self.fsid,
            "mon_addresses": self.mon_addresses,
            "dashboard_url": self.dashboard_url,
            "rgw_url": self.rgw_url,
        })

    # ------------------------------------------------------------------------------ plumbing

    def _cmd(
        self,
        step: str,
        host: CephHost,
        script: pulumi.Output[str],
        *,
        delete: str,
        deps: Sequence[pulumi.Resource],
        stdin: pulumi.Input[str] | None = None,
        secret_stdout: bool = False,
    ) -> remote.Command:
        body = script.apply(lambda s: PRELUDE + s)
        cmd = remote.Command(
            f"{self._name}-{step}",
            remote.CommandArgs(
                connection=remote.ConnectionArgs(
                    host=host.address, user="root", private_key=self._key,
                    dial_error_limit=60, per_dial_timeout=10,
                ),
                create=body,
                update=body,
                delete=PRELUDE + delete,
                stdin=stdin,
                logging=remote.Logging.STDERR,
                add_previous_output_in_env=False,
            ),
            pulumi.ResourceOptions(
                parent=self, depends_on=list(deps),
                additional_secret_outputs=["stdout", "stdin"] if secret_stdout else ["stdin"],
            ),
        )
        self.commands[step] = cmd
        return cmd

    def _conf(self, fsid_and_addresses: list[Any], *, index: int, n_mons: int) -> str:
        fsid, addresses = str(fsid_and_addresses[0]), list(fsid_and_addresses[1])
        hosts = self._args.hosts
        mon_host = ",".join(f"[v2:{a}:{MON_PORT}]" for a in addresses[:n_mons])
        lab = self._args.lab
        lines = [
            "[global]",
            f"fsid = {fsid}",
            f"mon initial members = {', '.join(h.name for h in hosts[:n_mons])}",
            f"mon host = {mon_host}",
            f"public network = {self._args.public_network}",
            f"public addr = {addresses[index]}",
            "auth cluster required = cephx",
            "auth service required = cephx",
            "auth client required = cephx",
            "auth allow insecure global id reclaim = false",
            "ms bind msgr1 = false",
            "ms bind msgr2 = true",
            "run dir = /run/ceph",
            "pid file = /run/ceph/$cluster-$name.pid",
            "log file = /var/lib/ceph/log/$cluster-$name.log",
            "mon cluster log file = /var/lib/ceph/log/$cluster.log",
            *(f"{k.replace('_', ' ')} = {v}" for k, v in self._pool_defaults(n_mons).items()),
            "osd pool default pgp num = 8",
            "mon max pg per osd = 1000",
        ]
        if lab:
            lines += [
                "mon allow pool size one = true",
                "mon warn on pool no redundancy = false",
                "mon data avail warn = 2",
            ]
        lines += ["", "[client]", "admin socket =", "", "[mon]", "mgr initial modules = iostat nfs dashboard",
                  "", "[osd]", "osd fast shutdown = false"]
        if lab:
            lines += ["osd objectstore = memstore", "memstore device bytes = 1073741824",
                      "osd memory target = 939524096"]
        lines += ["", f"[client.rgw.{hosts[0].name}]", f"rgw frontends = beast endpoint={addresses[0]}:{RGW_PORT}",
                  "rgw data = /var/lib/ceph/radosgw/$cluster-$id", ""]
        return "\n".join(lines)

    def _pool_defaults(self, n_mons: int) -> dict[str, str]:
        """Pool defaults, in ceph.conf and in the monitors' config database (where the dashboard,
        and so `ceph.Pool`, reads them). The lab's pools may have one replica: the dashboard cannot
        set size 1 itself (it never sends the confirmation flag), so there it is the default."""
        return {
            "osd_pool_default_size": "1" if self._args.lab else str(n_mons),
            "osd_pool_default_min_size": "1",
            "osd_pool_default_pg_num": "8",
            "osd_pool_default_pg_autoscale_mode": "off",
        }

    # ---------------------------------------------------------------------------- the steps

    @staticmethod
    def _node_script(conf: str) -> str:
        # stdin: the monitor key, then the admin key (only the admin key is written here).
        return f"""read -r _mon_key; read -r admin_key
mkdir -p /etc/ceph
cat > /etc/ceph/ceph.conf.new <<'EOF'
{conf}
EOF
mv /etc/ceph/ceph.conf.new /etc/ceph/ceph.conf
umask 077
keyring_entry client.admin "$admin_key" "${{ADMIN_CAPS[@]}}" > /etc/ceph/ceph.client.admin.keyring.new
mv /etc/ceph/ceph.client.admin.keyring.new /etc/ceph/ceph.client.admin.keyring
"""

    @staticmethod
    def _mon_script(mon_id: str, mon_names: list[str], fsid_and_addresses: list[Any]) -> str:
        fsid, addresses = str(fsid_and_addresses[0]), list(fsid_and_addresses[1])
        addv = " ".join(f"--addv {_q(n)} '[v2:{a}:{MON_PORT}]'" for n, a in zip(mon_names, addresses, strict=False))
        return f"""read -r mon_key; read -r admin_key
id={_q(mon_id)}; data=/var/lib/ceph/mon/ceph-$id
if [ ! -e "$data/done" ]; then
  rm -rf "$data"; mkdir -p "$data"
  tmp=$(mktemp -d /run/ceph/mon.XXXXXX); trap 'rm -rf "$tmp"' EXIT
  ( umask 077
    keyring_entry mon. "$mon_key" mon 'allow *' > "$tmp/keyring"
    keyring_entry client.admin "$admin_key" "${{ADMIN_CAPS[@]}}" >> "$tmp/keyring" )
  # A running cluster (a server added later): its current map; the new monitor adds itself when it
  # starts at its public address. Otherwise (the first formation) the initial map of all monitors.
  if ! timeout 10 ceph --connect-timeout 5 mon getmap -o "$tmp/monmap" >/dev/null 2>&1; then
    monmaptool --create --fsid {_q(fsid)} {addv} "$tmp/monmap" >/dev/null
  fi
  ceph-mon --mkfs -i "$id" --monmap "$tmp/monmap" --keyring "$tmp/keyring"
  touch "$data/done"
fi
running "/run/ceph/ceph-mon.$id.pid" || daemon ceph-mon -i "$id"
echo "mon.$id"
"""

    @staticmethod
    def _mon_delete(mon_id: str) -> str:
        return f"""id={_q(mon_id)}
timeout 15 ceph --connect-timeout 10 mon remove "$id" >/dev/null 2>&1 || true
stop_pidfile "/run/ceph/ceph-mon.$id.pid"
rm -rf "/var/lib/ceph/mon/ceph-$id"
"""

    @staticmethod
    def _mgr_script(mgr_id: str, address: str, pool_defaults: dict[str, str]) -> str:
        defaults = "\n".join(f"ceph config set global {k} {_q(v)}" for k, v in pool_defaults.items())
        return f"""id={_q(mgr_id)}; data=/var/lib/ceph/mgr/ceph-$id
until_ok 120 "the monitors' quorum" ceph mon stat
{defaults}
ceph config set mgr mgr/dashboard/ssl false --force
ceph config set mgr mgr/dashboard/server_addr {_q(address)} --force
ceph config set mgr mgr/dashboard/server_port {DASHBOARD_PORT} --force
ceph config set mon mon_allow_pool_delete true
mkdir -p "$data"
ceph auth get-or-create "mgr.$id" mon 'allow profile mgr' osd 'allow *' mds 'allow *' -o "$data/keyring"
running "/run/ceph/ceph-mgr.$id.pid" || daemon ceph-mgr -i "$id"
until_ok 120 "the dashboard at {address}:{DASHBOARD_PORT}" http_answers http://{address}:{DASHBOARD_PORT}/api/health/minimal
echo "mgr.$id"
"""

    @staticmethod
    def _mgr_delete(mgr_id: str) -> str:
        return f"""id={_q(mgr_id)}
stop_pidfile "/run/ceph/ceph-mgr.$id.pid"
timeout 20 ceph auth del "mgr.$id" >/dev/null 2>&1 || true
rm -rf "/var/lib/ceph/mgr/ceph-$id"
"""

    @staticmethod
    def _dashboard_user_script() -> str:
        # The password arrives on stdin and reaches the CLI through a file in /run (tmpfs, 0600).
        return f"""read -r password
tmp=$(mktemp /run/ceph/dash.XXXXXX); trap 'rm -f "$tmp"' EXIT
printf '%s' "$password" > "$tmp"
create() {{ ceph dashboard ac-user-create {DASHBOARD_USER} -i "$tmp" administrator --force-password; }}
if ceph dashboard ac-user-show {DASHBOARD_USER} >/dev/null 2>&1; then
  ceph dashboard ac-user-set-password {DASHBOARD_USER} -i "$tmp" --force-password >/dev/null
else
  until_ok 120 "the dashboard's commands" create
fi
echo {DASHBOARD_USER}
"""

    @staticmethod
    def _osd_script(h: CephHost) -> str:
        if h.osd_device:
            dev = _q(h.osd_device)
            return f"""mkdir -p /var/lib/ceph/bootstrap-osd
ceph auth get client.bootstrap-osd -o /var/lib/ceph/bootstrap-osd/ceph.keyring
ceph-volume lvm list {dev} >/dev/null 2>&1 || ceph-volume lvm create --bluestore --data {dev}
ceph-volume lvm activate --all --no-systemd
ceph-volume lvm list {dev} --format json | python3 -c 'import json,sys; print(next(iter(json.load(sys.stdin))))'
"""
        return """d=/var/lib/ceph/osd; mkdir -p "$d"
[ -s "$d/uuid" ] || cat /proc/sys/kernel/random/uuid > "$d/uuid"
( umask 077; [ -s "$d/secret" ] || ceph-authtool --gen-print-key > "$d/secret" )
uuid=$(cat "$d/uuid")
if [ ! -s "$d/id" ]; then
  id=$(printf '{"cephx_secret": "%s"}' "$(cat "$d/secret")" | ceph osd new "$uuid" -i -)
  rm -rf "$d/ceph-$id"; mkdir -p "$d/ceph-$id"
  ( umask 077; keyring_entry "osd.$id" "$(cat "$d/secret")" > "$d/ceph-$id/keyring" )
  ceph-osd -i "$id" --mkfs --osd-uuid "$uuid" >/dev/null
  echo "$id" > "$d/id"
fi
id=$(cat "$d/id")
running "/run/ceph/ceph-osd.$id.pid" || daemon ceph-osd -i "$id"
echo "$id"
"""

    @staticmethod
    def _osd_delete(purge: bool, drain_timeout: int) -> str:
        """Out, then wait (bounded) until Ceph has moved the OSD's placement groups elsewhere and
        every placement group is active+clean; only then stop it (and purge it when allowed). Where
        Ceph cannot move them in time (no room, pools as large as the OSDs left), stopping it would
        lose the only copy in pools of one replica: the step refuses, marks the OSD in again and
        says why. With no other OSD up and in (the whole cluster is being removed) there is nowhere
        to move them: the step says so and goes on."""
        if purge:
            finish = """  stop_pidfile "/run/ceph/ceph-osd.$id.pid"
  timeout 30 ceph osd purge "$id" --yes-i-really-mean-it >/dev/null 2>&1 || true
  echo "osd.$id purged (allowOsdPurge)" >&2
fi
rm -rf "$d"
"""
        else:
            finish = """  stop_pidfile "/run/ceph/ceph-osd.$id.pid"
  echo "osd.$id is out and stopped, not purged (allowOsdPurge is not set); its store stays in $d" >&2
fi
"""
        return f"""d=/var/lib/ceph/osd
if [ -s "$d/id" ]; then
  id=$(cat "$d/id")
  timeout 30 ceph osd out "$id" >/dev/null 2>&1 || true
  deadline=$(( $(date +%s) + {int(drain_timeout)} ))
  while :; do
    state=$(timeout 60 python3 -c {_q(DRAIN_STATE)} "$id" 2>&1) || state="cannot read the placement groups: $state"
    case $state in
      drained) echo "osd.$id: its placement groups are active+clean on other OSDs" >&2; break ;;
      alone) echo "osd.$id: no other OSD is up and in, so its placement groups cannot move (the whole" \\
                  "cluster is being removed): their data goes with it" >&2; break ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
      timeout 30 ceph osd in "$id" >/dev/null 2>&1 || true
      echo "osd.$id: refusing to stop it: Ceph did not move its placement groups to other OSDs" \\
           "within {int(drain_timeout)} s ($state). Stopping it now would lose the data of pools whose" \\
           "only copy is there (pools of one replica) or leave pools degraded. It is marked in again;" \\
           "add OSDs or lower the pools' size so its data fits elsewhere, then run again." >&2
      exit 1
    fi
    sleep 2
  done
{finish}"""

    @staticmethod
    def _rgw_script(host: str, address: str) -> str:
        pools = " ".join(_q(p) for p in RGW_POOLS)
        return f"""name=client.rgw.{_q(host)}; data=/var/lib/ceph/radosgw/ceph-rgw.{_q(host)}
mkdir -p "$data"
ceph auth get-or-create "$name" mon 'allow rw' osd 'allow rwx' -o "$data/keyring"
have=$(ceph osd pool ls)
for p in {pools}; do
  if ! grep -qx -- "$p" <<<"$have"; then
    ( ceph osd pool create "$p" 8 8 >/dev/null 2>&1 && ceph osd pool application enable "$p" rgw >/dev/null 2>&1 ) &
  fi
done
wait
running "/run/ceph/ceph-$name.pid" || daemon radosgw -n "$name"
until_ok 180 "RGW at {address}:{RGW_PORT}" http_answers http://{address}:{RGW_PORT}/
echo "$name"
"""

    @staticmethod
    def _rgw_delete(host: str) -> str:
        return f"""name=client.rgw.{_q(host)}
stop_pidfile "/run/ceph/ceph-$name.pid"
timeout 20 ceph auth del "$name" >/dev/null 2>&1 || true
rm -rf /var/lib/ceph/radosgw/ceph-rgw.{_q(host)}
"""

    @staticmethod
    def _mds_script(host: str, fs: str) -> str:
        return f"""id={_q(host)}; fs={_q(fs)}; data=/var/lib/ceph/mds/ceph-$id
mkdir -p "$data"
ceph auth get-or-create "mds.$id" mon 'allow profile mds' osd 'allow rwx' mds 'allow *' \\
  mgr 'allow profile mds' -o "$data/keyring"
if ! ceph fs get "$fs" >/dev/null 2>&1; then
  for p in "$fs.meta" "$fs.data"; do ceph osd pool create "$p" 8 8 >/dev/null; done
  ceph fs new "$fs" "$fs.meta" "$fs.data"
fi
running "/run/ceph/ceph-mds.$id.pid" || daemon ceph-mds -i "$id"
active() {{ ceph mds stat | grep -q "up:active"; }}
until_ok 120 "an active MDS for $fs" active
echo "mds.$id"
"""

    @staticmethod
    def _mds_delete(host: str) -> str:
        return f"""id={_q(host)}
stop_pidfile "/run/ceph/ceph-mds.$id.pid"
timeout 20 ceph auth del "mds.$id" >/dev/null 2>&1 || true
rm -rf "/var/lib/ceph/mds/ceph-$id"
"""

    @staticmethod
    def _rgw_user_script() -> str:
        # The keys are RGW's own; they leave the host only on stdout, which is secret in state.
        return f"""uid={RGW_ADMIN_UID}
info=$(radosgw-admin user info --uid="$uid" 2>/dev/null) || \\
  info=$(radosgw-admin user create --uid="$uid" --display-name="Admin Ops (privatecloud)" --caps={_q(RGW_ADMIN_CAPS)})
python3 -c '
import json, sys
k = json.load(sys.stdin)["keys"][0]
print(json.dumps({{"access_key": k["access_key"], "secret_key": k["secret_key"]}}))' <<<"$info"
"""


def provider_config(c: CephCluster) -> pulumi.Output[str]:
    """The cluster as the `ceph.*` providers' `<project>:ceph` object (JSON, secret): the config of
    an explicit provider, so those resources reach the cluster this program formed."""
    settings = pulumi.Output.all(
        dashboardUrl=c.dashboard_url, dashboardUser=c.dashboard_user, dashboardPassword=c.dashboard_password,
        rgwUrl=c.rgw_url, rgwAccessKey=c.rgw_access_key, rgwSecretKey=c.rgw_secret_key,
    )
    return _secret(settings.apply(json.dumps))
