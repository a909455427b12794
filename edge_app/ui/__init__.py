"""The floor app's Flet UI: status bar, orders, pick screen and sync issues.

Views are layout and wiring; what a picker may do lives in `edge_app.workflows.picking`.
`edge_app.ui.app.serve()` runs it as a web app; nothing here starts at import."""

__all__: list[str] = []
