"""What gunicorn and ``flask --app wsgi`` load: the app, and nothing started.

The report scheduler is started by the serving process only (the gunicorn
hooks in gunicorn.conf.py), never here: ``flask --app wsgi report run`` and
every other administration command import this module too.
"""

from hub import create_app

app = create_app()
