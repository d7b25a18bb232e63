"""The Flask app of bench/load: the same two routes as the Go servers.

    python3 app.py 8085                            # Flask's dev server (app.run, threaded)
    gunicorn --chdir bench/flask -b 127.0.0.1:8086 app:app
"""

import sys

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello, World!"


@app.route("/user/<int:id>")
def user(id):
    return f"User {id}"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
