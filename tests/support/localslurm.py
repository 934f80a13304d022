"""A real single-node SLURM cluster for the tests, started from Debian's packages.

``LocalSlurm(root).start()`` writes every config file under ``root`` and starts, as the current
(root) user and each in the foreground so that this process owns it:

- ``munged`` with its own key on the default socket (/run/munge/munge.socket.2), unless a munged
  already answers there, in which case that one is used,
- ``mariadbd`` on a private data directory, listening on 127.0.0.1 only,
- ``slurmdbd`` (the accounting daemon ``sacct``/``sacctmgr`` talk to),
- ``slurmctld`` and ``slurmd`` for one node, ``$(hostname -s)``, that belongs to two partitions:
  ``cpu`` (the default) and ``gpu``. The node declares two fake GPUs (GRES ``gpu:testgpu:2``,
  backed by empty stand-in device files), so a job that asks for ``--gpus`` is scheduled and accounted like on a
  real GPU node, and a job that does not is visibly GPU-free.

The node runs "configless", as most real clusters do: slurmd fetches slurm.conf and gres.conf
from slurmctld and caches them under /run/slurm/conf, where client commands inside a job find them
(the executor plugin's job step clears SLURM_CONF before it calls srun). That, and MUNGE's default
socket, are the only paths outside ``root`` the cluster uses; a machine that already has
/etc/slurm/slurm.conf would shadow the cache, so ``conflicts()`` reports it. Every daemon listens
on a free port of 127.0.0.1. ``env()`` returns the environment the client tools (sbatch, sacct, ...)
need: ``SLURM_CONF`` pointing at the generated slurm.conf. ``stop()`` ends every daemon it started,
in reverse order, by process id.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

#: Debian packages that provide the cluster; tests skip with this list when they are absent.
PACKAGES = ("munge", "slurmctld", "slurmd", "slurm-client", "slurmdbd", "mariadb-server")
#: The programs the cluster runs (found on PATH or in /usr/sbin).
PROGRAMS = (
    "munged",
    "munge",
    "unmunge",
    "mariadbd",
    "mariadb-install-db",
    "slurmdbd",
    "slurmctld",
    "slurmd",
    "sbatch",
    "sacct",
    "sacctmgr",
    "scontrol",
    "sinfo",
)

MUNGE_SOCKET = Path("/run/munge/munge.socket.2")
CLUSTER = "maskaudit"
ACCOUNT = "maskaudit"
#: What the fake node declares (slurmd reports these instead of probing the machine).
NODE_CPUS = 16
NODE_MEMORY_MB = 64000
NODE_GPUS = 2
GPU_TYPE = "testgpu"


def which(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/sbin")


def missing_programs() -> list[str]:
    return [p for p in PROGRAMS if which(p) is None]


def conflicts() -> list[str]:
    """Reasons this machine cannot host the test cluster (beyond missing programs)."""
    reasons = []
    if os.geteuid() != 0:
        reasons.append("the daemons must be started as root")
    if Path("/etc/slurm/slurm.conf").exists():
        reasons.append("/etc/slurm/slurm.conf exists (a real cluster's config would shadow ours)")
    return reasons


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalSlurm:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.node = socket.gethostname().split(".")[0]
        self.ports = {name: free_port() for name in ("mysql", "dbd", "ctld", "slurmd")}
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.conf = self.root / "etc" / "slurm.conf"

    # -- paths -------------------------------------------------------------------------------
    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["SLURM_CONF"] = str(self.conf)
        # A cluster job inherits nothing of an outer SLURM job.
        for key in list(env):
            if key.startswith("SLURM_") and key != "SLURM_CONF":
                del env[key]
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 60) -> str:
        """Run a SLURM client command against this cluster and return its stdout."""
        done = subprocess.run(
            [which(args[0]) or args[0], *args[1:]],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}"
            )
        return done.stdout

    # -- config files ------------------------------------------------------------------------
    def write_configs(self) -> None:
        for sub in ("etc", "log", "run", "state", "spool", "munge", "mysql"):
            self.path(sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        key = self.path("munge", "munge.key")
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        auth = "AuthType=auth/munge\n"

        dbd = self.path("etc", "slurmdbd.conf")
        dbd.write_text(
            auth + f"DbdHost=localhost\nDbdAddr=127.0.0.1\nDbdPort={self.ports['dbd']}\n"
            "SlurmUser=root\n"
            f"PidFile={self.path('run', 'slurmdbd.pid')}\n"
            f"LogFile={self.path('log', 'slurmdbd.log')}\n"
            "StorageType=accounting_storage/mysql\n"
            f"StorageHost=127.0.0.1\nStoragePort={self.ports['mysql']}\n"
            "StorageUser=root\nStorageLoc=slurm_acct_db\n"
        )
        dbd.chmod(0o600)

        # GPU GRES must be backed by device files; empty files stand in for /dev/nvidia*.
        self.path("dev").mkdir(exist_ok=True)
        for i in range(NODE_GPUS):
            self.path("dev", f"gpu{i}").touch()
        self.path("etc", "gres.conf").write_text(
            f"AutoDetect=off\nNodeName={self.node} Name=gpu Type={GPU_TYPE} "
            f"File={self.path('dev')}/gpu[0-{NODE_GPUS - 1}]\n"
        )
        self.conf.write_text(
            f"ClusterName={CLUSTER}\n"
            f"SlurmctldHost={self.node}(127.0.0.1)\n"
            f"SlurmctldPort={self.ports['ctld']}\nSlurmdPort={self.ports['slurmd']}\n"
            + auth
            + "CredType=cred/munge\nSlurmUser=root\nSlurmdUser=root\n"
            f"StateSaveLocation={self.path('state')}\n"
            f"SlurmdSpoolDir={self.path('spool')}\n"
            f"SlurmctldPidFile={self.path('run', 'slurmctld.pid')}\n"
            f"SlurmdPidFile={self.path('run', 'slurmd.pid')}\n"
            f"SlurmctldLogFile={self.path('log', 'slurmctld.log')}\n"
            f"SlurmdLogFile={self.path('log', 'slurmd.log')}\n"
            # No cgroups (containers rarely allow them): plain process tracking, no binding.
            "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
            "JobAcctGatherType=jobacct_gather/linux\nJobAcctGatherFrequency=30\n"
            "MpiDefault=none\nSwitchType=switch/none\n"
            "SchedulerType=sched/backfill\n"
            "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core_Memory\n"
            # The node reports what it is declared to have, not what the test machine has.
            "SlurmdParameters=config_overrides\nReturnToService=2\n"
            "SlurmctldParameters=enable_configless\n"
            "AccountingStorageType=accounting_storage/slurmdbd\n"
            f"AccountingStorageHost=localhost\nAccountingStoragePort={self.ports['dbd']}\n"
            "AccountingStorageTRES=gres/gpu\nAccountingStorageEnforce=associations\n"
            "AccountingStoreFlags=job_comment\nJobCompType=jobcomp/none\n"
            "GresTypes=gpu\nMinJobAge=300\n"
            "SchedulerParameters=sched_interval=2\n"
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={NODE_CPUS} "
            f"RealMemory={NODE_MEMORY_MB} Gres=gpu:{GPU_TYPE}:{NODE_GPUS} State=UNKNOWN\n"
            f"PartitionName=cpu Nodes={self.node} Default=YES MaxTime=INFINITE State=UP\n"
            f"PartitionName=gpu Nodes={self.node} MaxTime=INFINITE State=UP\n"
        )

    # -- daemons -----------------------------------------------------------------------------
    def _spawn(self, name: str, *args: str, env: dict | None = None) -> subprocess.Popen:
        log = open(self.path("log", f"{name}.stdout"), "ab")
        proc = subprocess.Popen(
            [which(args[0]), *args[1:]],
            env=self.env() if env is None else env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.procs.append((name, proc))
        return proc

    def _wait(self, what: str, ready, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited ({proc.returncode}) while waiting for {what}:\n"
                        + self.logs()
                    )
            try:
                if ready():
                    return
            except (OSError, RuntimeError, subprocess.SubprocessError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"timed out waiting for {what}:\n" + self.logs())

    def logs(self) -> str:
        out = []
        for log in sorted(self.path("log").glob("*")):
            text = log.read_text(errors="replace").splitlines()[-15:]
            out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    def _mysql_ready(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.ports["mysql"]), timeout=1):
            return True

    def start(self) -> LocalSlurm:
        """Start every daemon; on any failure stop what was started and raise with the logs."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _munge_works(self) -> bool:
        encode = subprocess.run(["munge", "-n"], capture_output=True, timeout=10)
        if encode.returncode != 0:
            return False
        decode = subprocess.run(["unmunge"], input=encode.stdout, capture_output=True, timeout=10)
        return decode.returncode == 0

    def _start(self) -> None:
        self.write_configs()
        if not self._munge_works():
            MUNGE_SOCKET.parent.mkdir(parents=True, exist_ok=True)
            self._spawn(
                "munged",
                "munged",
                "--foreground",
                "--force",
                f"--key-file={self.path('munge', 'munge.key')}",
                f"--socket={MUNGE_SOCKET}",
                f"--pid-file={self.path('munge', 'munged.pid')}",
                f"--seed-file={self.path('munge', 'munged.seed')}",
                f"--log-file={self.path('log', 'munged.log')}",
            )
            self._wait("munged", self._munge_works)

        datadir = self.path("mysql", "data")
        subprocess.run(
            [
                which("mariadb-install-db"),
                "--no-defaults",
                f"--datadir={datadir}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
        self._spawn(
            "mariadbd",
            "mariadbd",
            "--no-defaults",
            f"--datadir={datadir}",
            "--user=root",
            f"--port={self.ports['mysql']}",
            "--bind-address=127.0.0.1",
            f"--socket={self.path('mysql', 'mysqld.sock')}",
            f"--pid-file={self.path('run', 'mariadbd.pid')}",
            f"--log-error={self.path('log', 'mariadbd.log')}",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M",
            "--innodb-lock-wait-timeout=900",  # what slurmdbd asks for
        )
        self._wait("mariadbd", self._mysql_ready)

        # slurmdbd.conf and gres.conf are read from the directory of SLURM_CONF.
        self._spawn("slurmdbd", "slurmdbd", "-D")
        self._wait("slurmdbd", lambda: self.run("sacctmgr", "-n", "list", "cluster") is not None)
        self.run("sacctmgr", "-i", "add", "cluster", CLUSTER)
        self.run("sacctmgr", "-i", "add", "account", ACCOUNT, f"cluster={CLUSTER}")
        self.run(
            "sacctmgr", "-i", "add", "user", "root", f"account={ACCOUNT}", f"cluster={CLUSTER}"
        )

        self._spawn("slurmctld", "slurmctld", "-D", "-i")
        self._wait("slurmctld", lambda: self.run("scontrol", "ping").count("UP") >= 1)
        # Configless, as on most real clusters: slurmd fetches slurm.conf and gres.conf from
        # slurmctld and caches them where clients inside a job find them (/run/slurm/conf), which
        # matters because the plugin's job step clears SLURM_CONF before calling srun.
        self._spawn(
            "slurmd",
            "slurmd",
            "-D",
            "-N",
            self.node,
            "--conf-server",
            f"127.0.0.1:{self.ports['ctld']}",
            env={k: v for k, v in self.env().items() if k != "SLURM_CONF"},
        )
        self._wait("the node to be idle", self._node_idle, timeout=90)

    def _node_idle(self) -> bool:
        state = self.run("sinfo", "-h", "-N", "-o", "%T", "-n", self.node).split()
        return bool(state) and all(s == "idle" for s in state)

    def stop(self) -> None:
        """Stop every daemon this object started, newest first, by process id."""
        self._stop_daemons()
        # slurmd's link to its config cache, when it points into this cluster's directory.
        link = Path("/run/slurm/conf")
        if link.is_symlink() and str(os.readlink(link)).startswith(str(self.root)):
            link.unlink()

    def _stop_daemons(self) -> None:
        while self.procs:
            name, proc = self.procs.pop()
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)

    def __enter__(self) -> LocalSlurm:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # manual check: python tests/support/localslurm.py /tmp/slurm-try
    import sys

    cluster = LocalSlurm(Path(sys.argv[1]))
    try:
        cluster.start()
        print(cluster.run("sinfo"))
        print(cluster.run("sbatch", "--parsable", "--output=/dev/null", "--wrap", "hostname"))
        time.sleep(5)
        print(cluster.run("sacct", "-X", "-P", "-o", "JobID,Partition,State,ReqTRES"))
        input(f"cluster up, SLURM_CONF={cluster.conf}; press enter to stop")
    finally:
        cluster.stop()
