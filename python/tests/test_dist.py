"""retina_data.dist: ranks from Slurm's variables, the rendezvous from the node list."""
from __future__ import annotations

import pytest

from retina_data import dist


def test_world_from_slurm_task_variables_and_not_from_the_batch_shell():
    task = {"SLURM_PROCID": "3", "SLURM_NTASKS": "4", "SLURM_LOCALID": "1", "SLURM_STEP_ID": "0"}
    assert dist.world_from_env(task) == dist.World(3, 4, 1, "slurm")
    batch_shell = {"SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_LOCALID": "0"}  # no step: not an srun task
    assert dist.world_from_env(batch_shell) == dist.World(0, 1, 0, "single")
    assert dist.world_from_env({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"}).source == "torchrun"
    with pytest.raises(ValueError):
        dist.world_from_env({"SLURM_PROCID": "4", "SLURM_NTASKS": "4", "SLURM_STEP_ID": "0"})


def test_master_addr_is_the_first_host_or_its_node_addr_when_the_name_does_not_resolve():
    calls = []

    def run(argv):
        calls.append(argv)
        if argv[:3] == ["scontrol", "show", "hostnames"]:
            return "n1\nn2\nn3\n"
        if argv[:3] == ["scontrol", "show", "node"]:
            return "NodeName=n1 Arch=x86_64\n   NodeAddr=127.0.0.1 NodeHostName=vm\n"
        raise AssertionError(argv)

    def unresolvable(name):
        raise OSError("no such host")

    assert dist.first_host("n[1-3]", run) == "n1"
    assert dist.resolve_node("n1", run, unresolvable) == "127.0.0.1"
    assert dist.resolve_node("vm", run, lambda n: "10.0.0.1") == "vm"
    addr, port = dist.rendezvous({"SLURM_JOB_NODELIST": "n[1-3]", "SLURM_JOB_ID": "123", "MASTER_PORT": "29999"}, run)
    assert port == 29999 and addr in ("n1", "127.0.0.1")


def test_the_port_is_derived_from_the_job_id_alike_on_every_rank():
    assert dist.derived_port("4711") == dist.derived_port("4711")
    assert dist.PORT_BASE <= dist.derived_port("4711") < dist.PORT_BASE + dist.PORT_SPAN
    taken = {dist.derived_port("9")}
    assert dist.free_port("9", lambda p: p not in taken) == dist.derived_port("9") + 1
