"""The web dashboard over the run store (docs/dashboard.md): `queries` (SQL, no Dash), `figures`, `page`, `app`."""
