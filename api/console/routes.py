"""The staff console's pages. Each is a shell; `static/console.js` fills it from the public JSON API.

Nothing here reads data or checks who is signed in: the API does both, so the console can do
nothing a staff member could not do with the API directly (no private endpoints).
"""

from __future__ import annotations

from flask import Blueprint, render_template

blp = Blueprint("console", __name__, url_prefix="/staff", static_folder="static", static_url_path="/static")

# (path, page name, title): the console's pages, in the order of its navigation.
PAGES = (
    ("/", "sheet", "Day sheet"),
    ("/approvals", "approvals", "Approvals"),
    ("/new", "new", "Phone & walk-in"),
    ("/floor", "floor", "Floor"),
    ("/calendar", "calendar", "Calendar"),
    ("/dashboard", "dashboard", "Dashboard"),
)


def _page(name: str, title: str):  # type: ignore[no-untyped-def]
    def view() -> str:
        return render_template(f"console/{name}.html", page=name, title=title, pages=PAGES)

    view.__name__ = name
    view.__doc__ = f"The console's {title.lower()} page."
    return view


for _path, _name, _title in PAGES:
    blp.add_url_rule(_path, view_func=_page(_name, _title))


@blp.get("/login")
def login() -> str:
    """Sign in with a staff account."""
    return render_template("console/login.html", page="login", title="Sign in", pages=())
