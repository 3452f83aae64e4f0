"""How each recipe of Examples/sharding runs on one machine, for tools/sharding_check.py: the
Kubernetes Indexed Job's container command as the manifest has it, with the environment a pod of
an index gets; the Slurm array script under bash with the variables a task gets; stand-ins for
sbatch and for a node lost mid-shard."""
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = os.path.join(ROOT, "Examples/sharding")


class KubernetesJob:
    """One Job manifest: its spec, its container's command and the environment it declares."""

    def __init__(self, name):
        with open(os.path.join(RECIPES, "kubernetes", name)) as file:
            job = yaml.safe_load(file)
        self.spec = job["spec"]
        self.pod = self.spec["template"]["spec"]
        container = self.pod["containers"][0]
        self.command = container["command"]
        self.env = {item["name"]: item["value"] for item in container.get("env", [])}

    def problems(self):
        """What keeps the manifest from being an Indexed Job of SHARDS shards retried per index."""
        spec, found = self.spec, []
        if spec.get("completionMode") != "Indexed" or self.pod.get("restartPolicy") != "Never":
            found.append("not an Indexed Job with restartPolicy Never")
        if str(spec.get("completions")) != self.env.get("SHARDS") or spec.get("parallelism") != spec.get("completions"):
            found.append("completions %s, parallelism %s and SHARDS %s differ"
                         % (spec.get("completions"), spec.get("parallelism"), self.env.get("SHARDS")))
        if not spec.get("backoffLimitPerIndex"):
            found.append("no backoffLimitPerIndex")
        return found

    def environment(self, base, settings, index=None):
        """What the pod of `index` sees: the manifest's variables with `settings` in place of the
        cluster's paths, and the index the Job controller sets."""
        env = {**base, **self.env, **settings}
        if index is not None:
            env["JOB_COMPLETION_INDEX"] = str(index)
        return env


class SlurmArray:
    """shard-array.sbatch run by bash, as the task of an array."""

    command = ["bash", os.path.join(RECIPES, "slurm", "shard-array.sbatch")]
    merge_command = ["bash", os.path.join(RECIPES, "slurm", "merge.sbatch")]
    submit_command = ["bash", os.path.join(RECIPES, "slurm", "submit.sh")]

    @staticmethod
    def environment(base, settings, task_id, task_count):
        return {**base, **settings, "SLURM_ARRAY_TASK_ID": str(task_id), "SLURM_ARRAY_TASK_COUNT": str(task_count),
                "SLURM_CPUS_PER_TASK": settings.get("THREADS", "1")}


def fake_sbatch(directory):
    """An `sbatch` that logs its arguments and answers like `sbatch --parsable`; returns the log."""
    os.makedirs(directory)
    log = os.path.join(directory, "calls")
    with open(os.path.join(directory, "sbatch"), "w") as file:
        file.write('#!/bin/bash\necho "$*" >> "%s"\n'
                   'if [[ "$*" == *--array* ]]; then echo "4242;cluster"; else echo 4243; fi\n' % log)
    os.chmod(os.path.join(directory, "sbatch"), 0o755)
    return log


def counting(path, onboard, attempts):
    """Writes an executable that logs each call to `attempts` and runs onboard."""
    with open(path, "w") as file:
        file.write('#!/bin/bash\necho "$*" >> "%s"\nexec "%s" "$@"\n' % (attempts, onboard))
    os.chmod(path, 0o755)


def kill_first_attempt(path, onboard, attempts, shard):
    """Writes an executable that runs onboard and logs each call to `attempts`; the first call for
    `shard` (I/N) is killed with SIGKILL a second in, as on a node that is lost."""
    with open(path, "w") as file:
        file.write("""#!/bin/bash
echo "$*" >> "%(attempts)s"
if [[ "$*" == *"--shard %(shard)s"* ]] && [ "$(grep -c -- '--shard %(shard)s' "%(attempts)s")" = 1 ]; then
    "%(onboard)s" "$@" & child=$!
    sleep 1
    kill -KILL $child
    wait $child
    exit $?
fi
exec "%(onboard)s" "$@"
""" % {"attempts": attempts, "onboard": onboard, "shard": shard})
    os.chmod(path, 0o755)
