"""The console's Flask extensions: CSRF (Flask-WTF), sessions (Flask-Login), languages (Flask-Babel)."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
