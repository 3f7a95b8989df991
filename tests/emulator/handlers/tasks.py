"""``/tasks`` (the caller's asynchronous tasks) and the job actions that create them."""
from .. import reps
from ..errors import HttpError
from ..writers import send_empty, send_list, send_obj

JOB_ACTIONS = ("start", "stop", "retry")


def list_tasks(req, sess, _ids):
    send_list(req, [reps.task_obj(req.base, t) for t in list(sess.tasks.values())], "Tasks")


def _task(sess, tid):
    task = sess.tasks.get(tid.lower())
    if task is None:
        raise HttpError(404, "Task '%s' was not found." % tid)
    return task


def get_task(req, sess, ids):
    send_obj(req, 200, reps.task_obj(req.base, _task(sess, ids[0])))


def delete_task(req, sess, ids):
    sess.tasks.pop(_task(sess, ids[0]).task_id, None)
    send_empty(req, 204)


def job_action(req, sess, ids):
    """``POST /jobs/{id}?action=start|stop|retry``: a 202 with the task that carries it out."""
    job = req.st.ds.get("Job", ids[0])
    if job is None:
        raise HttpError(404, "Job '%s' was not found." % ids[0])
    action = (req.params.get("action") or "").lower()
    if action not in JOB_ACTIONS:
        raise HttpError(400, "Action '%s' is not supported for jobs by the emulator (start, stop, retry)."
                        % (req.params.get("action") or ""))
    task = req.st.tasks.create(sess, job, action)
    send_obj(req, 202, reps.task_obj(req.base, task))
