"""The callback interfaces, in the shape of Mesos's Python API
(``mesos.interface``): subclass Scheduler or Executor and override the
callbacks you need; each default does nothing.

Every message is a plain dict in the JSON shape of the Mesos v1 HTTP API
(``{"value": "..."}`` for ids, ``agent_id`` where the old API said
``slave_id``); bytes fields (``data`` of a framework message) are given as
bytes. Callbacks run one at a time on the driver's own thread, never at the
same time; a callback may call the driver (launch, kill, stop, ...). A
callback that raises aborts the driver (as in Mesos).
"""

__all__ = ["Scheduler", "Executor"]


class Scheduler:
    """A framework's scheduler; hand an instance to SchedulerDriver."""

    def registered(self, driver, frameworkId, masterInfo):
        """The first SUBSCRIBED: ``frameworkId`` ({"value": ...}) is the id
        the master gave (or the one resumed); ``masterInfo`` the master's
        MasterInfo ({} when the master sent none)."""

    def reregistered(self, driver, masterInfo):
        """SUBSCRIBED again after a lost connection, with the same framework
        id: tasks kept running; offers made before are void."""

    def disconnected(self, driver):
        """The stream to the master is gone; the driver re-subscribes by
        itself with a backoff. Calls made until ``reregistered`` are not
        sent (each is reported to ``error``)."""

    def resourceOffers(self, driver, offers):
        """OFFERS: a list of Offer dicts. Answer each with launchTasks,
        acceptOffers or declineOffer."""

    def offerRescinded(self, driver, offerId):
        """RESCIND: the offer is void."""

    def statusUpdate(self, driver, status):
        """UPDATE: a TaskStatus dict. With implicit acknowledgements (the
        default) the driver acknowledges it once this returns; otherwise
        call ``driver.acknowledgeStatusUpdate(status)``."""

    def frameworkMessage(self, driver, executorId, agentId, message):
        """MESSAGE from an executor; ``message`` is bytes."""

    def slaveLost(self, driver, agentId):
        """FAILURE without an executor: the agent is gone."""

    def executorLost(self, driver, executorId, agentId, status):
        """FAILURE of an executor; ``status`` its wait status or None."""

    def error(self, driver, message):
        """An error: the master's ERROR event or a refused subscription
        (the driver is aborted before this is called: ``driver.aborted``),
        or a call the master refused or that could not be sent (the
        driver goes on). ``message`` is a str naming the call."""


class Executor:
    """A framework's executor; hand an instance to ExecutorDriver."""

    def registered(self, driver, executorInfo, frameworkInfo, agentInfo):
        """The first SUBSCRIBED from the agent."""

    def reregistered(self, driver, agentInfo):
        """SUBSCRIBED again after the agent restarted (checkpointed
        frameworks only); unacknowledged updates were sent again."""

    def disconnected(self, driver):
        """The connection to the agent is gone; the driver re-subscribes
        (checkpointing frameworks) until MESOS_RECOVERY_TIMEOUT, then
        calls ``shutdown``."""

    def launchTask(self, driver, task):
        """LAUNCH: a TaskInfo dict. Run it (on a thread of your own: this
        blocks further callbacks) and report with sendStatusUpdate."""

    def launchTaskGroup(self, driver, taskGroup):
        """LAUNCH_GROUP (not in Mesos's old API): a TaskGroupInfo dict. The
        default calls ``launchTask`` for each task."""
        for task in taskGroup.get("tasks", []):
            self.launchTask(driver, task)

    def killTask(self, driver, taskId):
        """KILL: kill the task and send its terminal update."""

    def frameworkMessage(self, driver, message):
        """MESSAGE from the scheduler; ``message`` is bytes."""

    def shutdown(self, driver):
        """SHUTDOWN (or the agent lost for good): end every task; the
        driver stops once this returns."""

    def error(self, driver, message):
        """An error: the agent's ERROR event or a refused subscription (the
        driver is aborted first), or a call refused or not sent."""
