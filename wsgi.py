"""What gunicorn and ``flask --app wsgi`` load."""

from hub import create_app

app = create_app()
