"""The SLURM plugin's status polls capped at the profile's interval (jobs/slurmpolling).

The plugin (2.8.0) sets the executor interface's
``next_seconds_between_status_checks`` after each poll: 10 s more after a
poll that saw no job end, its initial interval after one that did. The cap
is tried on a subclass of the interface's own RemoteExecutor, as the
plugin's Executor is one.
"""

from snakemake_interface_executor_plugins.executors.remote import RemoteExecutor

from skymatchflow.jobs.slurmpolling import cap_status_interval

# the interface's abstract methods, which polling does not reach
CONCRETE = {name: lambda *args: None for name in ("run_job", "check_active_jobs", "cancel_jobs")}


def executor_class(name="Executor"):
    """A fresh subclass per test (the cap changes the class it is given, as it does the plugin's)."""
    return type(name, (RemoteExecutor,), dict(CONCRETE))


def executor(cls):
    instance = object.__new__(cls)  # the interface's __init__ needs a whole workflow
    instance._next_seconds_between_status_checks = None
    return instance


def test_the_back_off_stops_at_the_cap_and_shorter_waits_are_kept():
    cls = executor_class()
    assert cap_status_interval(cls, 10)
    polled = executor(cls)
    for wait in (20, 30, 180):  # the plugin's waits after polls that saw no job end
        polled.next_seconds_between_status_checks = wait
        assert polled.next_seconds_between_status_checks == 10
    polled.next_seconds_between_status_checks = 3  # reset after a job ended
    assert polled.next_seconds_between_status_checks == 3


def test_capping_twice_keeps_the_last_cap_without_nesting():
    cls = executor_class()
    cap_status_interval(cls, 10)
    cap_status_interval(cls, 5)
    polled = executor(cls)
    polled.next_seconds_between_status_checks = 8
    assert polled.next_seconds_between_status_checks == 5
    cap_status_interval(cls, 30)
    polled.next_seconds_between_status_checks = 20
    assert polled.next_seconds_between_status_checks == 20


def test_the_interface_itself_is_left_alone():
    cap_status_interval(executor_class(), 10)
    plain = executor(executor_class("Other"))
    plain.next_seconds_between_status_checks = 40
    assert plain.next_seconds_between_status_checks == 40


def test_a_class_without_the_property_is_not_changed():
    class Changed:
        next_seconds_between_status_checks = 60

    assert not cap_status_interval(Changed, 10)
    assert Changed.next_seconds_between_status_checks == 60
