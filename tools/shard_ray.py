#!/usr/bin/env python3
"""Runs one `onboard` command as N shards on Ray, then merges the parts.

    tools/shard_ray.py --shards N --parts DIR --out OUT [--address ray://HEAD:10001] [--threads T]
                       [--num-cpus C] [--max-retries R] [--onboard PATH] [--cwd DIR] [--env K=V ...]
                       -- validate --model M --data D --calibration C ...

Shard I runs `onboard COMMAND... --threads T --shard I/N --out DIR/part-I` as one Ray task asking
for T CPUs; a shard that crashes or is killed is retried alone (R times), a user error (exit 1 or 2)
is not. Then `onboard merge --out OUT DIR/part-*` runs as one more task. Without --address, Ray is
started on this machine with C CPUs (default: T x N, at most the cores). With --address the paths
are the cluster's: DIR and OUT on a filesystem every node shares, `onboard` on every node's PATH
(or --onboard). A shard whose part exists is skipped, so running the same command again after a
failure runs only the missing shards. Needs `pip install -r tools/requirements-ray.txt`; a cluster
with token authentication (Ray's default) also wants RAY_AUTH_MODE=token and its token
(RAY_AUTH_TOKEN, or ~/.ray/auth_token) here.
"""
import argparse
import logging
import os
import socket
import subprocess
import sys
import time

import ray

# The options the driver adds to each shard's command itself.
DRIVER_OPTIONS = ("--shard", "--out", "--threads")


# A shard that died (a signal, a crash) raises ChildProcessError, which Ray retries; one that onboard
# refused (exit 1 or 2: a bad input or option fails the same way again) raises RuntimeError, which it
# does not. Built-in types, so that a Ray cluster reached through ray:// can unpickle them.
RETRIED = ChildProcessError


def last_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(nothing on stderr)"


@ray.remote
def run_shard(index, argv, part, cwd, env):
    """Runs one shard; returns (index, host, wall seconds, skipped)."""
    host = socket.gethostname()
    part = os.path.join(cwd or "", part)
    if os.path.exists(part):
        return index, host, 0.0, True
    os.makedirs(os.path.dirname(part) or ".", exist_ok=True)
    start = time.monotonic()
    process = subprocess.run(argv, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    if process.returncode in (1, 2):
        raise RuntimeError("shard %d on %s: exit %d: %s" % (index, host, process.returncode, last_line(process.stderr)))
    if process.returncode != 0:
        raise RETRIED("shard %d on %s: exit %d: %s" % (index, host, process.returncode, last_line(process.stderr)))
    return index, host, wall, False


@ray.remote
def run_merge(argv, cwd, env):
    """Runs the merge; returns (exit status, stdout, stderr, wall seconds)."""
    start = time.monotonic()
    process = subprocess.run(argv, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True)
    return process.returncode, process.stdout, process.stderr, time.monotonic() - start


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", type=int, required=True, help="N, the number of shards")
    parser.add_argument("--parts", required=True, help="the directory of the parts (shared by every node)")
    parser.add_argument("--out", required=True, help="the merged output: what the single run's --out is")
    parser.add_argument("--address", help="a Ray cluster (ray://HEAD:10001, or auto); default: a local Ray")
    parser.add_argument("--threads", type=int, default=1, help="onboard --threads and Ray CPUs per shard (1)")
    parser.add_argument("--num-cpus", type=int, help="CPUs of the local Ray (default: threads x shards, at most the cores)")
    parser.add_argument("--max-retries", type=int, default=2, help="retries of a crashed or killed shard (2)")
    parser.add_argument("--onboard", default="onboard", help="the onboard executable on the nodes (onboard)")
    parser.add_argument("--cwd", help="the shards' working directory (default: this one for a local Ray)")
    parser.add_argument("--env", action="append", default=[], metavar="K=V",
                        help="set in every shard's environment, e.g. ONBOARD_ISA=avx2 (repeatable)")
    parser.add_argument("--no-merge", action="store_true", help="run the shards only")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the onboard command and its options")
    args = parser.parse_args()
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("no onboard command after --")
    if args.shards < 1 or args.threads < 1 or args.max_retries < 0:
        parser.error("--shards and --threads must be at least 1, --max-retries at least 0")
    taken = [option for option in args.command if option.split("=")[0] in DRIVER_OPTIONS]
    if taken:
        parser.error("the command may not have %s: the driver sets them" % ", ".join(taken))
    for item in args.env:
        if "=" not in item or item.startswith("="):
            parser.error("--env %s: not K=V" % item)
    return args


def connect(address, attempts=3):
    """Joins a running Ray. A Ray Client server sometimes fails to start the per-driver server of a
    new connection ("Starting Ray client server failed"); a fresh connection then succeeds."""
    for attempt in range(1, attempts + 1):
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
            return
        except (RuntimeError, ConnectionError) as error:
            if not address.startswith("ray://") or attempt == attempts:
                raise
            print("ray: connecting to %s failed (%s); trying again (%d of %d)" % (address, error, attempt + 1, attempts),
                  file=sys.stderr, flush=True)
            ray.shutdown()
            time.sleep(2 * attempt)


def start_ray(args):
    logging.getLogger("ray").setLevel(logging.WARNING)
    if args.address:
        connect(args.address)
        return
    cpus = args.num_cpus or min(os.cpu_count() or 1, args.threads * args.shards)
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, object_store_memory=128 << 20,
             logging_level=logging.WARNING, log_to_driver=False)


def run_shards(args, cwd, env):
    """Runs every shard; returns the failure messages."""
    options = dict(num_cpus=args.threads, max_retries=args.max_retries, retry_exceptions=[RETRIED])
    pending = {}
    for index in range(args.shards):
        part = os.path.join(args.parts, "part-%d" % index)
        argv = [args.onboard] + args.command + ["--threads", str(args.threads),
                                                "--shard", "%d/%d" % (index, args.shards), "--out", part]
        pending[run_shard.options(**options).remote(index, argv, part, cwd, env)] = index
    failures = []
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        index = pending.pop(done[0])
        try:
            _, host, wall, skipped = ray.get(done[0])
        except Exception as error:  # a shard's exception, or Ray's when its worker was lost
            cause = getattr(error, "cause", None) or error
            failures.append(str(cause).strip().splitlines()[-1])
            print("shard %d/%d: FAILED: %s" % (index, args.shards, failures[-1]), flush=True)
            continue
        if skipped:
            print("shard %d/%d: part exists, skipped" % (index, args.shards), flush=True)
        else:
            print("shard %d/%d: %.1f s on %s" % (index, args.shards, wall, host), flush=True)
    return failures


def main():
    args = parse_arguments()
    env = dict(item.split("=", 1) for item in args.env)
    cwd = args.cwd or (None if args.address else os.getcwd())
    start = time.monotonic()
    start_ray(args)
    failures = run_shards(args, cwd, env)
    shards_wall = time.monotonic() - start
    if failures:
        print("%d of %d shards failed; run the same command again to run only them" % (len(failures), args.shards),
              file=sys.stderr)
        return 1
    print("shards: %.1f s wall for %d shards" % (shards_wall, args.shards), flush=True)
    if args.no_merge:
        return 0
    parts = [os.path.join(args.parts, "part-%d" % index) for index in range(args.shards)]
    merge = run_merge.options(num_cpus=1).remote([args.onboard, "merge", "--out", args.out] + parts, cwd, env)
    status, stdout, stderr, merge_wall = ray.get(merge)
    sys.stdout.write(stdout)
    if status != 0:
        print("merge: exit %d: %s" % (status, last_line(stderr)), file=sys.stderr)
        return 1
    print("merge: %.1f s; total %.1f s wall; wrote %s" % (merge_wall, time.monotonic() - start, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
