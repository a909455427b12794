"""Entry point of the native floor app (`flet build` of packaging/floor-app).

The replica lives in the app's private storage (FLET_APP_STORAGE_DATA on a built
app); run from a checkout it falls back to ./floor-app-data."""

import os

from edge_app.ui.app import run_native

if __name__ == "__main__":
    run_native(os.environ.get("FLET_APP_STORAGE_DATA") or os.path.join(os.getcwd(), "floor-app-data"))
