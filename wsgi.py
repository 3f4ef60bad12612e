"""What gunicorn and ``flask --app wsgi`` load.

The report scheduler starts here, in serving processes only (every gunicorn
worker, or ``flask run``), not in administration commands such as
``flask --app wsgi partner add``; its jobs are safe to run in many workers.
"""

import sys

from hub import create_app

app = create_app()


def _administration_command() -> bool:
    return "flask" in sys.argv[0] and "run" not in sys.argv[1:]


if app.config["SCHEDULER_ENABLED"] and not _administration_command():
    from hub.reports.scheduler import start

    start(app)
