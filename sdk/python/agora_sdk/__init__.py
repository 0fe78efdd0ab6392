"""agora_sdk: write agora (and Mesos v1 HTTP API) frameworks in Python.

    from agora_sdk import Scheduler, SchedulerDriver, Executor, ExecutorDriver

The classes have the shape of Mesos's Python API (mesos.interface and
mesos.native): subclass Scheduler / Executor, hand it to a driver, call
``driver.run()``. Messages are plain dicts in the JSON shape of the Mesos v1
HTTP API. Standard library only. docs/sdk.md describes it.
"""

from ._base import (DRIVER_ABORTED, DRIVER_NOT_STARTED, DRIVER_RUNNING, DRIVER_STOPPED,
                    TERMINAL_STATES, b64, unb64)
from .executor import ExecutorDriver, MesosExecutorDriver
from .interface import Executor, Scheduler
from .recordio import RecordIOError
from .scheduler import MesosSchedulerDriver, SchedulerDriver

__version__ = "0.1.0"

__all__ = ["Scheduler", "Executor", "SchedulerDriver", "ExecutorDriver",
           "MesosSchedulerDriver", "MesosExecutorDriver", "RecordIOError",
           "TERMINAL_STATES", "DRIVER_NOT_STARTED", "DRIVER_RUNNING", "DRIVER_ABORTED",
           "DRIVER_STOPPED", "b64", "unb64"]
