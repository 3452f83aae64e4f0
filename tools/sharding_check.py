#!/usr/bin/env python3
"""The sharding recipes of Examples/sharding and tools/shard_ray.py, run on this machine.

Renders a tiny synthetic set and runs `onboard detect`, `validate` and `quantize` once each, then
the same work sharded through each recipe as local processes, some at once: the Kubernetes Indexed
Job's container command (read from the manifest) per JOB_COMPLETION_INDEX, the Slurm array script
per SLURM_ARRAY_TASK_ID (bash; no sbatch), and the Ray driver on a local Ray of 2 CPUs. Every merge
must give the single run's results files and bundle byte for byte and its metrics field for field.
Then the faults: a shard killed mid-run and rerun alone, a Ray shard killed and retried by Ray, and
merges refused for a missing, duplicated or foreign part. One line per check, then
`sharding: N passed, M failed`; exits 1 on any failure.

    tools/sharding_check.py [--onboard .build/release/onboard] [--work NEW_DIR]
"""
import argparse
import filecmp
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from sharding_recipes import ROOT, KubernetesJob, SlurmArray, counting, fake_sbatch, kill_first_attempt

MODEL = os.path.join(ROOT, "Configs/models/qpetr-demo")
OTHER_MODEL = os.path.join(ROOT, "Configs/models/petr-demo")
OTHER_RECIPE = os.path.join(ROOT, "Configs/recipes/int8-per-tensor.json")
VIT = os.path.join(ROOT, "Tests/Fixtures/vit/cls_token")
# report.json keys that must equal the single run's; latency and memory are measured per machine, and
# so is `eval_time` in the metrics summaries (the devkit's wall time of scoring). The planned arena
# (`activation_peak_bytes`) holds each op's scratch per worker thread, so it follows the thread count,
# which the shards here set apart from the single run.
REPORT_KEYS = ["model", "dataset", "split", "sample_count", "pseudo_ground_truth", "fp32", "int8", "weights_bytes",
               "layers", "suggested_exclusions", "float_ops", "drop_interval", "kernels"]
BUNDLE_FILES = ["config.json", "model.safetensors", "quant.json"]


def numerics_environment():
    """One kernel path and OpenBLAS core for every run, as the recipes ask of every node."""
    with open("/proc/cpuinfo") as cpuinfo:
        avx2 = " avx2" in cpuinfo.read()
    return {"ONBOARD_ISA": os.environ.get("ONBOARD_ISA") or ("avx2" if avx2 else "scalar"),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE") or ("Haswell" if avx2 else "Prescott")}


def write_pixel_values(path, seed):
    """A safetensors file of one seeded standard-normal `pixel_values` [1,3,32,32] (the ViT fixture's input)."""
    rng = random.Random(seed)
    count = 3 * 32 * 32
    header = json.dumps({"pixel_values": {"dtype": "F32", "shape": [1, 3, 32, 32], "data_offsets": [0, 4 * count]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(header)) + header + struct.pack("<%df" % count, *(rng.gauss(0, 1) for _ in range(count))))


def leftovers(directory):
    """What a killed shard may leave beside the parts: hidden staging directories and temporaries."""
    return sorted(name for name in os.listdir(directory) if name.startswith(".") or ".tmp-" in name)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, seconds):
    """None once 127.0.0.1:port accepts connections; a problem text if `process` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "ray start exited with %d" % process.returncode
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return None
        time.sleep(0.5)
    return "no Ray Client server on port %d after %d s" % (port, seconds)


def first_line_of_trouble(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][-300:] if lines else "(no stderr)"


class Check:
    def __init__(self, onboard, work, ray_python):
        self.onboard, self.work, self.ray_python = onboard, work, ray_python
        self.env = {**os.environ, **numerics_environment(),
                    "PATH": os.path.dirname(onboard) + os.pathsep + os.environ.get("PATH", "")}
        self.passed, self.failed = 0, 0
        self.set = self.path("set")
        # What the recipes' variables become here (the same names in both scripts).
        self.settings = {"MODEL": MODEL, "DATA": self.set, "VERSION": "v1.0-synth", "SPLIT": "synth_val",
                         "CALIBRATION": self.set, "CALIBRATION_SPLIT": "synth_train", "CALIBRATION_SAMPLES": "4",
                         "THREADS": "1", **numerics_environment()}

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def record(self, name, problem):
        if problem:
            self.failed += 1
            print("FAIL %s: %s" % (name, problem), flush=True)
        else:
            self.passed += 1
            print("ok   %s" % name, flush=True)

    def run(self, argv, env=None, name=None):
        """Runs a command to the end; returns (status, stderr, seconds). With `name`, a failure stops the check."""
        start = time.monotonic()
        process = subprocess.run(argv, env=env or self.env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.monotonic() - start
        if name and process.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (name, process.returncode, first_line_of_trouble(process.stderr)))
        return process.returncode, process.stderr, seconds

    def run_together(self, commands):
        """Starts every (argv, env) at once; returns a problem text, or None when all exit 0."""
        processes = [subprocess.Popen(argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True) for argv, env in commands]
        problems = []
        for process in processes:
            _, stderr = process.communicate()
            if process.returncode != 0:
                problems.append("exit %d: %s" % (process.returncode, first_line_of_trouble(stderr)))
        return "; ".join(problems) or None

    # ------------------------------------------------------------ single runs and comparisons

    def validate_options(self, model=MODEL):
        return ["--model", model, "--data", self.set, "--version", "v1.0-synth", "--split", "synth_val",
                "--calibration", self.set, "--calibration-split", "synth_train", "--calibration-samples", "4"]

    def single_runs(self):
        self.run([self.onboard, "synth", "--out", self.set, "--scenes", "2", "--samples-per-scene", "4",
                  "--seed", "5", "--rig", "demo-6cam"], name="synth")
        runs = [("detect", ["detect", "--model", MODEL, "--data", self.set, "--version", "v1.0-synth", "--split", "synth_val",
                            "--out", self.path("single-detect.json")]),
                ("validate", ["validate"] + self.validate_options() + ["--out", self.path("single-validation")])]
        os.makedirs(self.path("calibration-files"))
        for index in range(5):
            write_pixel_values(self.path("calibration-files", "%04d.safetensors" % index), seed=index)
        runs.append(("quantize", ["quantize", "--model", VIT, "--calibration", self.path("calibration-files"),
                                  "--out", self.path("single-int8")]))
        for name, arguments in runs:
            _, _, seconds = self.run([self.onboard] + arguments, name="single " + name)
            print("     single %s: %.1f s" % (name, seconds), flush=True)

    def bundle_difference(self, expected, got):
        for name in BUNDLE_FILES:
            if not filecmp.cmp(os.path.join(expected, name), os.path.join(got, name), shallow=False):
                return "%s differs from the single run's" % os.path.relpath(os.path.join(got, name), self.work)
        return None

    def report_difference(self, merged):
        """What differs between a merged validation and the single run's, or None."""
        single = self.path("single-validation")
        for name in ["results_fp32.json", "results_int8.json"]:
            if not filecmp.cmp(os.path.join(single, name), os.path.join(merged, name), shallow=False):
                return "%s differs from the single run's" % name
        problem = self.bundle_difference(os.path.join(single, "model-int8"), os.path.join(merged, "model-int8"))
        if problem:
            return problem
        with open(os.path.join(single, "report.json")) as a, open(os.path.join(merged, "report.json")) as b:
            expected, got = json.load(a), json.load(b)
        for summary in [summary for report in (expected, got) for summary in (report.get("fp32"), report.get("int8"))]:
            if isinstance(summary, dict):
                summary.pop("eval_time", None)
        differing = [key for key in REPORT_KEYS if expected.get(key) != got.get(key)]
        return "report.json differs in %s" % ", ".join(differing) if differing else None

    def merged(self, name, shards, merge, compare):
        """Records a sharded run: the shards' problem, else the merge's, else the comparison's."""
        problem = shards
        if not problem:
            status, stderr, _ = merge()
            problem = "merge exit %d: %s" % (status, first_line_of_trouble(stderr)) if status else compare()
        self.record(name, problem)

    # ------------------------------------------------------------ Kubernetes

    def kubernetes(self):
        job, merge_job = KubernetesJob("shard-job.yaml"), KubernetesJob("merge-job.yaml")
        self.record("kubernetes: shard-job.yaml is an Indexed Job of SHARDS completions, retried per index",
                    "; ".join(job.problems()))

        def pod(index, shards, parts, **more):
            return job.environment(self.env, {**self.settings, "SHARDS": str(shards), "PARTS": parts, **more}, index)

        def merge(parts, out):
            return lambda: self.run(merge_job.command, env=merge_job.environment(self.env, {"PARTS": parts, "OUT": out}))

        def parts_directory(name):
            os.makedirs(self.path(name))
            return self.path(name)

        # validate in 3 shards (1, 1 and 2 samples): indexes 0 and 1 at once, then 2.
        parts, out = parts_directory("k8s-parts"), self.path("k8s-validation")
        shards = self.run_together([(job.command, pod(0, 3, parts)), (job.command, pod(1, 3, parts))])
        shards = shards or self.run_together([(job.command, pod(2, 3, parts))])
        self.merged("kubernetes: validate in 3 shards, merged by merge-job.yaml, equals the single run", shards,
                    merge(parts, out), lambda: self.report_difference(out))

        before = os.stat(os.path.join(parts, "part-0")).st_mtime_ns
        status, stderr, seconds = self.run(job.command, env=pod(0, 3, parts))
        kept = os.stat(os.path.join(parts, "part-0")).st_mtime_ns == before
        self.record("kubernetes: a pod whose part is complete exits at once and leaves it",
                    None if status == 0 and "complete already" in stderr and kept and seconds < 5
                    else "exit %d after %.1f s, part kept: %s" % (status, seconds, kept))

        parts, out = parts_directory("k8s-detect-parts"), self.path("k8s-detect.json")
        shards = self.run_together([(job.command, pod(index, 2, parts, TASK="detect")) for index in range(2)])
        self.merged("kubernetes: TASK=detect in 2 shards merges to the single results file byte for byte", shards,
                    merge(parts, out), lambda: None if filecmp.cmp(self.path("single-detect.json"), out, shallow=False)
                    else "the merged results file differs")

        # The documented workflow: calibration sharded and merged into a bundle, validation
        # sharded on that bundle (no calibration in the shards), merged.
        parts, bundle = parts_directory("k8s-calibration-parts"), self.path("k8s-model-int8")
        shards = self.run_together([(job.command, pod(index, 2, parts, TASK="quantize")) for index in range(2)])
        self.merged("kubernetes: TASK=quantize on the camera set in 2 shards merges to validate's own bundle byte for byte",
                    shards, merge(parts, bundle),
                    lambda: self.bundle_difference(self.path("single-validation", "model-int8"), bundle))
        parts, out = parts_directory("k8s-quantized-parts"), self.path("k8s-quantized-validation")
        shards = self.run_together([(job.command, pod(index, 2, parts, QUANTIZED=bundle)) for index in range(2)])
        self.merged("kubernetes: validate with QUANTIZED=that bundle in 2 shards equals the single run", shards,
                    merge(parts, out), lambda: self.report_difference(out))

        parts, out = parts_directory("k8s-files-parts"), self.path("k8s-vit-int8")
        files = {"TASK": "quantize", "MODEL": VIT, "CALIBRATION": self.path("calibration-files"), "CALIBRATION_SPLIT": "",
                 "CALIBRATION_SAMPLES": "5"}
        shards = self.run_together([(job.command, pod(index, 2, parts, **files)) for index in range(2)])
        self.merged("kubernetes: TASK=quantize on input files (a ViT) in 2 shards merges to the single bundle byte for byte",
                    shards, merge(parts, out), lambda: self.bundle_difference(self.path("single-int8"), out))

    # ------------------------------------------------------------ Slurm

    def slurm(self):
        parts, out = self.path("slurm-parts"), self.path("slurm-validation")
        settings = {**self.settings, "PARTS": parts}
        # Both tasks at once; task 1 is killed once its detection has started, and rerun alone.
        first = subprocess.Popen(SlurmArray.command, env=SlurmArray.environment(self.env, settings, 0, 2), cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        second = subprocess.Popen(SlurmArray.command, env=SlurmArray.environment(self.env, settings, 1, 2), cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in second.stderr:
            if "detection" in line:
                second.send_signal(signal.SIGKILL)
                break
        second.communicate()
        _, first_stderr = first.communicate()
        problem = None
        if first.returncode != 0:
            problem = "task 0: exit %d: %s" % (first.returncode, first_line_of_trouble(first_stderr))
        elif second.returncode != -signal.SIGKILL:
            problem = "task 1 was not killed mid-run (exit %d)" % second.returncode
        elif os.path.exists(os.path.join(parts, "part-1")):
            problem = "the killed task left a part"
        else:
            # As `sbatch --array=1 --export=ALL,SHARDS=2` runs it: an array of one task, SHARDS given.
            rerun = {**SlurmArray.environment(self.env, settings, 1, 1), "SHARDS": "2"}
            status, stderr, _ = self.run(SlurmArray.command, env=rerun)
            if status:
                problem = "rerun of task 1: exit %d: %s" % (status, first_line_of_trouble(stderr))
            elif leftovers(parts):
                problem = "the rerun left the killed task's %s" % ", ".join(leftovers(parts))
        self.merged("slurm: a task killed mid-run leaves no part, reruns alone, and the merge equals the single run",
                    problem, lambda: self.run(SlurmArray.merge_command, env={**self.env, "PARTS": parts, "OUT": out}),
                    lambda: self.report_difference(out))

        status, stderr, _ = self.run(SlurmArray.command, env={**SlurmArray.environment(self.env, settings, 2, 1), "SHARDS": "2"})
        self.record("slurm: a task id not below SHARDS is refused (exit 2)",
                    None if status == 2 and "SHARDS" in stderr else "exit %d: %s" % (status, stderr.strip()))

        log = fake_sbatch(self.path("fake-sbatch"))
        env = {**self.env, "PATH": self.path("fake-sbatch") + os.pathsep + self.env["PATH"]}
        status, stderr, _ = self.run(SlurmArray.submit_command + ["3", "--partition=cpu"], env=env)
        calls = open(log).read().splitlines() if os.path.exists(log) else []
        problem = None
        if status != 0 or len(calls) != 2:
            problem = "exit %d, %d sbatch calls: %s" % (status, len(calls), stderr.strip())
        elif not all(item in calls[0].split() for item in ["--array=0-2", "--export=ALL,SHARDS=3", "--partition=cpu"]):
            problem = "array submitted as: %s" % calls[0]
        elif "--dependency=afterok:4242" not in calls[1].split() or not calls[1].endswith("merge.sbatch"):
            problem = "merge submitted as: %s" % calls[1]
        self.record("slurm: submit.sh queues tasks 0..N-1 and the merge with afterok on the array", problem)

    # ------------------------------------------------------------ Ray

    def ray(self):
        """The driver on a local Ray of 2 CPUs; shard 1's first attempt is killed mid-run and Ray retries it."""
        wrapper, attempts, out = self.path("kill-first-attempt"), self.path("ray-attempts"), self.path("ray-validation")
        kill_first_attempt(wrapper, self.onboard, attempts, "1/2")
        numerics = ["--env=%s=%s" % item for item in numerics_environment().items()]
        start = time.monotonic()
        process = subprocess.run([self.ray_python, os.path.join(ROOT, "tools/shard_ray.py"), "--shards", "2", "--threads", "1",
                                  "--num-cpus", "2", "--max-retries", "1", "--parts", self.path("ray-parts"), "--out", out,
                                  "--onboard", wrapper] + numerics + ["--", "validate"] + self.validate_options(),
                                 env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        print("     ray driver: %.1f s" % (time.monotonic() - start), flush=True)
        for line in process.stdout.splitlines():
            if line.startswith(("shard", "merge")):
                print("     " + line, flush=True)
        tries = open(attempts).read().count("--shard 1/2") if os.path.exists(attempts) else 0
        if process.returncode != 0:
            problem = "driver exit %d: %s" % (process.returncode, first_line_of_trouble(process.stderr))
        elif tries != 2:
            problem = "shard 1 ran %d times, not twice (killed once, retried once)" % tries
        elif leftovers(self.path("ray-parts")):
            problem = "the retry left the killed attempt's %s" % ", ".join(leftovers(self.path("ray-parts")))
        else:
            problem = self.report_difference(out)
        self.record("ray: 2 shards on a local Ray of 2 CPUs, a killed shard retried alone, the merge equals the single run",
                    problem)

    def ray_client(self):
        """The driver from outside a Ray cluster, as from a laptop: a head started here with its
        Ray Client server on a loopback port, reached through ray:// (token authentication on)."""
        ports = [free_port() for _ in range(2)]
        env = {**self.env, "RAY_AUTH_MODE": "token"}
        head = subprocess.Popen([os.path.join(os.path.dirname(self.ray_python), "ray"), "start", "--head", "--block",
                                 "--port", str(ports[0]), "--ray-client-server-port", str(ports[1]), "--num-cpus", "2",
                                 "--include-dashboard", "false", "--disable-usage-stats", "--object-store-memory", str(128 << 20)],
                                env=env, cwd=self.work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        out, wrapper, attempts = self.path("ray-client-detect.json"), self.path("counting"), self.path("ray-client-attempts")
        counting(wrapper, self.onboard, attempts)

        def driver(name, split):
            return subprocess.run([self.ray_python, os.path.join(ROOT, "tools/shard_ray.py"), "--address",
                                   "ray://127.0.0.1:%d" % ports[1], "--shards", "2", "--parts", self.path(name), "--out", out,
                                   "--onboard", wrapper, "--cwd", ROOT, "--", "detect", "--model", MODEL, "--data", self.set,
                                   "--split", split], env=env, cwd=self.work, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        refused = None
        try:
            problem = wait_for_port(ports[1], head, seconds=90)
            if not problem:
                process = driver("ray-client-parts", "synth_val")
                if process.returncode != 0:
                    problem = "driver exit %d: %s" % (process.returncode, first_line_of_trouble(process.stderr))
                elif not filecmp.cmp(self.path("single-detect.json"), out, shallow=False):
                    problem = "the merged results file differs"
                if os.path.exists(attempts):  # absent when no shard ran: the problem above says why
                    os.remove(attempts)
                process = driver("ray-client-refused-parts", "no_such_split")
                calls = open(attempts).read().count("--shard") if os.path.exists(attempts) else 0
                if process.returncode != 1 or calls != 2 or "no_such_split" not in process.stdout:
                    refused = "driver exit %d after %d shard runs: %s" % (process.returncode, calls, process.stdout.strip()[-300:])
        finally:
            head.terminate()
            try:
                head.wait(60)
            except subprocess.TimeoutExpired:
                head.kill()
                head.wait()
        self.record("ray: the driver through ray:// (Ray Client) on a head started here: detect in 2 shards equals the single run",
                    problem)
        self.record("ray: a shard onboard refuses (exit 1) is not retried; the driver exits 1 naming the cause",
                    refused if not problem else "not run: " + problem)

    # ------------------------------------------------------------ refused merges

    def refused(self, name, parts):
        out = self.path("refused-%d" % (self.passed + self.failed))
        status, stderr, _ = self.run([self.onboard, "merge", "--out", out] + parts)
        lines = [line for line in stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("onboard: ")]
        problem = None
        if status != 1 or len(errors) != 1 or errors[0] != lines[-1]:
            problem = "exit %d, stderr %r" % (status, stderr.strip()[-300:])
        elif os.path.exists(out):
            problem = "the refused merge wrote %s" % out
        else:
            print("     " + errors[0], flush=True)
        self.record("merge refuses %s: exit 1, one error line" % name, problem)

    def refusals(self):
        parts = self.path("slurm-parts")
        part0, part1 = os.path.join(parts, "part-0"), os.path.join(parts, "part-1")
        self.refused("a missing part", [part0])
        shutil.copytree(part0, self.path("copy", "part-0"))
        self.refused("a duplicated part", [part0, self.path("copy", "part-0"), part1])
        for name, options in [("a part of another model", self.validate_options(OTHER_MODEL)),
                              ("a part of another recipe", self.validate_options() + ["--recipe", OTHER_RECIPE])]:
            foreign = self.path("foreign-" + name.split()[-1], "part-1")
            self.run([self.onboard, "validate"] + options + ["--threads", "1", "--shard", "1/2", "--out", foreign], name=name)
            self.refused(name, [part0, foreign])
        self.refused("a detect part among validate parts", [part0, self.path("k8s-detect-parts", "part-1")])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--onboard", default=os.path.join(ROOT, ".build/release/onboard"))
    parser.add_argument("--work", help="a new directory to keep everything in (default: a temporary one, removed)")
    args = parser.parse_args()
    onboard = os.path.abspath(args.onboard)
    if not os.access(onboard, os.X_OK):
        parser.error("%s: no onboard executable (swift build -c release --product onboard first)" % onboard)
    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="onboard-sharding-")
    os.makedirs(work, exist_ok=bool(not args.work))
    check = Check(onboard, work, sys.executable)
    start = time.monotonic()
    try:
        for step in [check.single_runs, check.kubernetes, check.slurm, check.ray, check.ray_client, check.refusals]:
            step()
    except (RuntimeError, OSError) as error:
        check.record("the run", str(error))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print("sharding: %.0f s" % (time.monotonic() - start))
    print("sharding: %d passed, %d failed" % (check.passed, check.failed))
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
